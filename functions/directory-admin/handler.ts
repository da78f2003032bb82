import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { DynamoAuditLog } from '#adapters/dynamodb/audit-log.ts';
import { DynamoDirectoryEditor } from '#adapters/dynamodb/directory-editor.ts';
import { DynamoDirectory } from '#adapters/dynamodb/directory-store.ts';
import {
  createRecord,
  directoryIdFrom,
  getRecord,
  pauseService,
  resumeService,
  retireRecord,
  rotateSigningSecret,
  updateRecord,
  type DirectoryAdminDeps,
} from '#directory/application/edit-directory.ts';
import type { RecipientKind } from '#directory/domain/directory.ts';
import type { DirectoryRecordKind, RecipientSecretsWriter } from '#directory/ports.ts';
import type { Caller } from '#auth/caller.ts';
import { systemClock } from '#kernel/clock.ts';
import { maxRequestBodyBytes } from '#system/limits.ts';
import { assertMediaType, bodyText, jsonMediaTypes, parseJson } from '#http/request.ts';
import { json } from '#http/responses.ts';
import { documentClient } from '#platform/clients.ts';
import { channelPolicy, tableName } from '#platform/config.ts';
import { httpHandler, type HttpHandler } from '#platform/handlers.ts';
import { requestAudited } from '#platform/request-origin.ts';
import { logger } from '#platform/observability.ts';
import { recipientSecretsFrom } from '#platform/secrets.ts';

/**
 * The directory's admin API (role `admin` only, checked by httpHandler from the route table): teams, partners and
 * services created, read, replaced (PUT, the whole record with the version it was read at), retired; services
 * paused and resumed; recipients' signing secrets rotated. Each route is one use case of
 * shared/directory/application/edit-directory.ts.
 */

// The secret store is made on first use: the module then loads where none is configured (the route table's test
// loads every handler), and a function without the grant fails on its first edit, saying so.
let secretStore: RecipientSecretsWriter | undefined;
const store = (): RecipientSecretsWriter => (secretStore ??= recipientSecretsFrom());

const deps: DirectoryAdminDeps = {
  editor: new DynamoDirectoryEditor(documentClient, tableName('directory')),
  directory: new DynamoDirectory(documentClient, tableName('directory')),
  secrets: {
    secretOf: (kind, id) => store().secretOf(kind, id),
    putSecret: (kind, id, secret) => store().putSecret(kind, id, secret),
  },
  audit: requestAudited(new DynamoAuditLog(documentClient, tableName('audit'))),
  clock: systemClock,
  channels: channelPolicy(),
};

const paths: Record<DirectoryRecordKind, string> = {
  team: '/directory/teams',
  partner: '/directory/partners',
  service: '/directory/services',
};

function jsonBody(event: APIGatewayProxyEvent): unknown {
  assertMediaType(event, jsonMediaTypes);
  return parseJson(bodyText(event, maxRequestBodyBytes));
}

/** rotate-secret: no body, or an empty JSON object. */
const optionalJsonBody = (event: APIGatewayProxyEvent): unknown =>
  event.body === null || event.body === '' ? {} : jsonBody(event);

const idOf = (event: APIGatewayProxyEvent): string => directoryIdFrom(event.pathParameters?.id);
/** Who the audit trail names: the admin token's subject. */
const actorOf = (caller: Caller | undefined): string => `admin:${caller?.subject ?? 'unknown'}`;

/** The record's URL under whatever prefix the request came in with (API Gateway's stage, `/prod/...`). */
function locationOf(event: APIGatewayProxyEvent, kind: DirectoryRecordKind, id: string): string {
  const requested = event.requestContext.path;
  const prefix = requested.endsWith(event.path)
    ? requested.slice(0, requested.length - event.path.length)
    : '';
  return `${prefix}${paths[kind]}/${id}`;
}

function changed(
  operation: string,
  kind: DirectoryRecordKind,
  record: { id: string; version: number },
  status = 200,
): void {
  logger.info('Directory changed', { operation, kind, id: record.id, version: record.version, status });
}

const create =
  (kind: DirectoryRecordKind): HttpHandler =>
  async (event, _context, caller) => {
    const { record, signingSecret } = await createRecord(deps, kind, jsonBody(event), actorOf(caller));
    changed('create', kind, record, 201);
    const headers = { Location: locationOf(event, kind, record.id) };
    return json(201, signingSecret === undefined ? record : { [kind]: record, signingSecret }, headers);
  };

const read =
  (kind: DirectoryRecordKind): HttpHandler =>
  async (event) =>
    json(200, await getRecord(deps, kind, idOf(event)));

const update =
  (kind: DirectoryRecordKind): HttpHandler =>
  async (event, _context, caller) => {
    const record = await updateRecord(deps, kind, idOf(event), jsonBody(event), actorOf(caller));
    changed('update', kind, record);
    return json(200, record);
  };

const retire =
  (kind: DirectoryRecordKind): HttpHandler =>
  async (event, _context, caller) => {
    const record = await retireRecord(deps, kind, idOf(event), jsonBody(event), actorOf(caller));
    changed('retire', kind, record);
    return json(200, record);
  };

const rotate =
  (kind: RecipientKind): HttpHandler =>
  async (event, _context, caller) => {
    const id = idOf(event);
    const answer = await rotateSigningSecret(deps, kind, id, optionalJsonBody(event), actorOf(caller));
    logger.info('Signing secret rotated', { kind, id });
    return json(200, answer);
  };

export const handler = httpHandler('directoryAdmin', {
  createTeam: create('team'),
  getTeam: read('team'),
  updateTeam: update('team'),
  retireTeam: retire('team'),
  rotateTeamSecret: rotate('team'),
  createPartner: create('partner'),
  getPartner: read('partner'),
  updatePartner: update('partner'),
  retirePartner: retire('partner'),
  rotatePartnerSecret: rotate('partner'),
  createService: create('service'),
  getService: read('service'),
  updateService: update('service'),
  retireService: retire('service'),
  pauseService: async (event, _context, caller): Promise<APIGatewayProxyResult> => {
    const record = await pauseService(deps, idOf(event), jsonBody(event), actorOf(caller));
    changed('pause', 'service', record);
    return json(200, record);
  },
  resumeService: async (event, _context, caller): Promise<APIGatewayProxyResult> => {
    const record = await resumeService(deps, idOf(event), jsonBody(event), actorOf(caller));
    changed('resume', 'service', record);
    return json(200, record);
  },
});
