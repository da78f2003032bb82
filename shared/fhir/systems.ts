/**
 * The canonical URLs of the FHIR code and identifier systems we send (inbound/normalise.ts says which spellings we
 * accept). Plain values on their own (inbound/bundle.ts re-exports them), so the outbound messages can name them
 * without building the inbound bundle's schemas at import.
 */
export const fhirSystems = {
  bundleProfile: 'https://fhir.nhs.uk/StructureDefinition/BARSBundleMessage',
  messageEvents: 'https://fhir.nhs.uk/CodeSystem/message-events-bars',
  /** Pre-2023 BaRS name of the events code system; still sent by some systems. */
  messageEventsLegacy: 'https://fhir.nhs.uk/CodeSystem/message-event-servicerequest',
  messageReasons: 'https://fhir.nhs.uk/CodeSystem/message-reason-bars',
  messageReasonsLegacy: 'https://fhir.nhs.uk/CodeSystem/message-reason-servicerequest',
  serviceRequestCategory: 'https://fhir.nhs.uk/CodeSystem/message-category-servicerequest',
  flagCategories: 'https://fhir.nhs.uk/CodeSystem/flag-categories-bars',
  nhsNumber: 'https://fhir.nhs.uk/Id/nhs-number',
  odsOrganisation: 'https://fhir.nhs.uk/Id/ods-organization-code',
  nhsNumberVerificationExtension:
    'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus',
  nhsNumberVerification: 'https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatus',
  nhsNumberVerificationEngland:
    'https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatusEngland',
} as const;
