/**
 * What the local webhook receiver says about a message back to a practice (a BaRS `servicerequest-response`
 * Bundle, shared/fhir/outbound/servicerequest-response.ts): its event and our event code, never anything about the
 * patient (the Bundle carries the NHS number; it is not printed).
 */

type Json = Record<string, unknown>;
const isRecord = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const responseEventSystem = 'https://social-prescribing.example.org/CodeSystem/referral-response-event';

/** The message Bundle: the body itself, or the `data` of a webhook envelope (`{ type, timestamp, data }`). */
function bundleOf(payload: unknown): Json | undefined {
  const isMessage = (value: unknown): value is Json =>
    isRecord(value) && value['resourceType'] === 'Bundle' && value['type'] === 'message';
  if (isMessage(payload)) return payload;
  return isRecord(payload) && isMessage(payload['data']) ? payload['data'] : undefined;
}

/** The message's BaRS event (`servicerequest-response`), or undefined when the payload is not a message Bundle. */
export function practiceMessageEvent(payload: unknown): string | undefined {
  const bundle = bundleOf(payload);
  if (bundle === undefined) return undefined;
  const entries = Array.isArray(bundle['entry']) ? bundle['entry'] : [];
  const header = isRecord(entries[0]) ? entries[0]['resource'] : undefined;
  const event =
    isRecord(header) && isRecord(header['eventCoding']) ? header['eventCoding']['code'] : undefined;
  return typeof event === 'string' ? event : undefined;
}

/** One log line's worth: the event, what happened (our code) and the referral (ServiceRequest) id. */
export function practiceMessageSummary(payload: unknown): string {
  const bundle = bundleOf(payload);
  const entries = Array.isArray(bundle?.['entry']) ? bundle['entry'] : [];
  const resources = entries.flatMap((entry) =>
    isRecord(entry) && isRecord(entry['resource']) ? [entry['resource']] : [],
  );
  const task = resources.find((r) => r['resourceType'] === 'Task');
  const serviceRequest = resources.find((r) => r['resourceType'] === 'ServiceRequest');
  const codings =
    isRecord(task?.['businessStatus']) && Array.isArray(task['businessStatus']['coding'])
      ? task['businessStatus']['coding']
      : [];
  const what = codings.find((c) => isRecord(c) && c['system'] === responseEventSystem) as Json | undefined;
  return `${practiceMessageEvent(payload) ?? '?'} (${String(what?.['code'] ?? '?')}) for referral ${String(serviceRequest?.['id'] ?? '?')}`;
}
