import packageJson from '../../../package.json' with { type: 'json' };
import { serviceName } from '#system/environment.ts';
import { messageDefinitionUrls } from '#fhir/outbound/message-definitions.ts';

/**
 * The FHIR R4 CapabilityStatement served at `GET /metadata`: what this FHIR server offers. It must say what the
 * routes do: a `read` of ServiceRequest (`GET /ServiceRequest/{id}`), the BaRS `$process-message` operation
 * (`POST /$process-message`), receiving `servicerequest-request` messages, and the MessageDefinitions of what it
 * receives (`GET /MessageDefinition`, `GET /MessageDefinition/{id}`), which `messaging.supportedMessage` names.
 */

/** When the statement last changed; fixed so the answer is the same on every call and every deployment. */
export const capabilityStatementDate = '2026-12-02';

const messageEventsSystem = 'https://fhir.nhs.uk/CodeSystem/message-events-bars';

export function capabilityStatement(baseUrl?: string) {
  return {
    resourceType: 'CapabilityStatement',
    id: serviceName,
    name: 'SocialPrescribingReferrals',
    title: 'Social prescribing referrals',
    status: 'active',
    experimental: false,
    date: capabilityStatementDate,
    description: `${packageJson.description}: receives BaRS-shaped referrals (FHIR R4 messages) from GP systems.`,
    kind: 'instance',
    software: { name: serviceName, version: packageJson.version },
    implementation: {
      description: 'Social prescribing referral service',
      ...(baseUrl === undefined ? {} : { url: baseUrl }),
    },
    fhirVersion: '4.0.1',
    format: ['json'],
    rest: [
      {
        mode: 'server',
        documentation:
          'Errors are OperationOutcome resources carrying BaRS error codes. OpenAPI: GET /openapi.json.',
        security: {
          cors: false,
          service: [
            {
              coding: [
                {
                  system: 'http://terminology.hl7.org/CodeSystem/restful-security-service',
                  code: 'OAuth',
                  display: 'OAuth',
                },
              ],
            },
          ],
          description:
            'OAuth2 bearer token: `Authorization: Bearer <JWT>`, a JWT from the configured issuer carrying the ' +
            "caller's role and organisation. Without one: 401; with a role the route does not allow: 403.",
        },
        resource: [
          {
            type: 'ServiceRequest',
            profile: 'http://hl7.org/fhir/StructureDefinition/ServiceRequest',
            interaction: [{ code: 'read' }],
          },
          {
            type: 'MessageDefinition',
            profile: 'http://hl7.org/fhir/StructureDefinition/MessageDefinition',
            documentation:
              'The messages this receiver accepts, with our use-case code in useContext; no token needed.',
            interaction: [{ code: 'read' }, { code: 'search-type' }],
            searchParam: [
              {
                name: 'context',
                type: 'token',
                documentation: 'The use case (useContext value): system|code, or code.',
              },
            ],
          },
        ],
        operation: [
          {
            name: 'process-message',
            definition: 'http://hl7.org/fhir/OperationDefinition/MessageHeader-process-message',
            documentation:
              'POST /$process-message with a BaRS message Bundle; headers X-Request-ID and X-Correlation-ID ' +
              '(UUIDs) are required and mirrored back. Answers 200 with the processed Bundle.',
          },
        ],
      },
    ],
    messaging: [
      {
        ...(baseUrl === undefined
          ? {}
          : {
              endpoint: [
                {
                  protocol: {
                    system: 'http://terminology.hl7.org/CodeSystem/message-transport',
                    code: 'http',
                  },
                  address: `${baseUrl.replace(/\/+$/, '')}/$process-message`,
                },
              ],
            }),
        documentation:
          `Receives messages with MessageHeader.eventCoding ${messageEventsSystem}#servicerequest-request (reason ` +
          'new or update: a referral or its update; reason update with ServiceRequest.status revoked or ' +
          'entered-in-error: its cancellation). Sends servicerequest-response messages back to the referrer. ' +
          'The definitions are served at GET /MessageDefinition.',
        // Ours, each based on BaRS's definition of the same message (BaRS has no social-prescribing use case yet).
        supportedMessage: messageDefinitionUrls.map((definition) => ({ mode: 'receiver', definition })),
      },
    ],
  };
}
