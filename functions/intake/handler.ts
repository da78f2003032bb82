import { httpHandler } from '#platform/handlers.ts';
import { processBarsMessage } from './bars-route.ts';
import { submitJsonReferral } from './json-route.ts';

/**
 * Intake: referrals in either form (plain JSON on POST /referrals, a BaRS FHIR message on POST /$process-message),
 * mapped to one internal model and one set of rules, recorded durably and queued for routing.
 */
export const handler = httpHandler('intake', {
  submitReferral: submitJsonReferral,
  processMessage: processBarsMessage,
});
