import { uuidPattern } from '#kernel/ids.ts';
import { fhirSystems } from '#fhir/systems.ts';
import type { MessageInfo } from '#fhir/inbound/message-intent.ts';
import { entryKeys, referenceKeys } from '#fhir/inbound/normalise.ts';

/**
 * The synchronous BaRS acknowledgement of a processed `$process-message`: the full one (the request Bundle as
 * received, with the ServiceRequest as this service assigned it) and the minimal fallback, built only from what
 * was validated, for when the full one cannot be built.
 */

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * BaRS acknowledges synchronously with the processed Bundle: the request as received, with the ServiceRequest's
 * `id`, `status` and `meta.lastUpdated` set to what this service assigned. Its entry's `fullUrl` becomes
 * `urn:uuid:<assigned id>`, and every `reference` in the Bundle that pointed at the old fullUrl (or at
 * `ServiceRequest/<old id>`) is repointed, so the acknowledgement still resolves. Everything else is kept.
 * Call it only with a Bundle that parseBarsMessage accepted.
 */
export function acknowledgementBundle(
  request: unknown,
  assigned: { serviceRequestId: string; status: string; lastUpdated: string },
): Record<string, unknown> {
  if (!isRecord(request) || !Array.isArray(request['entry'])) {
    throw new TypeError('acknowledgementBundle needs the request Bundle that parseBarsMessage accepted');
  }
  const bundle = structuredClone(request);
  const entries = (bundle['entry'] as unknown[]).filter(isRecord);
  const resourceOf = (entry: Record<string, unknown>) =>
    isRecord(entry['resource']) ? entry['resource'] : {};

  // The ServiceRequest is the MessageHeader's focus; fall back to the first ServiceRequest entry.
  const header = entries[0] === undefined ? {} : resourceOf(entries[0]);
  const focus = Array.isArray(header['focus']) ? header['focus'].filter(isRecord) : [];
  const focusRefs = focus.flatMap((f) =>
    typeof f['reference'] === 'string' ? referenceKeys(f['reference']) : [],
  );
  const isServiceRequest = (entry: Record<string, unknown>) =>
    resourceOf(entry)['resourceType'] === 'ServiceRequest';
  const target =
    entries.find(
      (entry) =>
        isServiceRequest(entry) &&
        typeof entry['fullUrl'] === 'string' &&
        entryKeys(entry['fullUrl'], 'ServiceRequest', resourceOf(entry)['id']).some((key) =>
          focusRefs.includes(key),
        ),
    ) ?? entries.find(isServiceRequest);
  if (target === undefined)
    throw new TypeError('acknowledgementBundle: the request Bundle has no ServiceRequest');

  const resource = resourceOf(target);
  const oldKeys = new Set<string>(
    typeof target['fullUrl'] === 'string'
      ? entryKeys(target['fullUrl'], 'ServiceRequest', resource['id'])
      : typeof resource['id'] === 'string'
        ? [`ServiceRequest/${resource['id']}`]
        : [],
  );
  const newFullUrl = `urn:uuid:${assigned.serviceRequestId}`;
  const { resourceType, id: _oldId, meta, ...rest } = resource;
  target['fullUrl'] = newFullUrl;
  target['resource'] = {
    resourceType,
    id: assigned.serviceRequestId,
    meta: { ...(isRecord(meta) ? meta : {}), lastUpdated: assigned.lastUpdated },
    ...rest,
    status: assigned.status,
  };

  // Repoint references to the ServiceRequest (iteratively, one value pushed at a time: neither recursion nor a
  // spread of a client-sized array into push, either of which can overflow the stack on a large Bundle).
  const stack: unknown[] = [bundle];
  while (stack.length) {
    const node = stack.pop();
    if (Array.isArray(node)) {
      for (const item of node) stack.push(item);
    } else if (isRecord(node)) {
      const ref = node['reference'];
      if (typeof ref === 'string' && referenceKeys(ref).some((key) => oldKeys.has(key)))
        node['reference'] = newFullUrl;
      for (const key in node) stack.push(node[key]);
    }
  }
  return bundle;
}

/**
 * The fallback acknowledgement, built only from the validated message and what this service assigned (it never
 * reads the request body): the Bundle id and timestamp as sent, the MessageHeader (event, source, focus) and the
 * ServiceRequest with its assigned `id`, `status` and `meta.lastUpdated`. For when acknowledgementBundle cannot
 * be built, so that a processed message is never answered with an error.
 */
export function minimalAcknowledgementBundle(
  message: MessageInfo,
  assigned: { serviceRequestId: string; status: string; lastUpdated: string },
): Record<string, unknown> {
  const serviceRequestUrl = `urn:uuid:${assigned.serviceRequestId}`;
  return {
    resourceType: 'Bundle',
    id: message.bundleId,
    type: 'message',
    timestamp: message.timestamp,
    entry: [
      {
        ...(uuidPattern.test(message.messageHeaderId)
          ? { fullUrl: `urn:uuid:${message.messageHeaderId}` }
          : {}),
        resource: {
          resourceType: 'MessageHeader',
          id: message.messageHeaderId,
          eventCoding: { system: fhirSystems.messageEvents, code: 'servicerequest-request' },
          source: { endpoint: message.sourceEndpoint },
          focus: [{ reference: serviceRequestUrl }],
        },
      },
      {
        fullUrl: serviceRequestUrl,
        resource: {
          resourceType: 'ServiceRequest',
          id: assigned.serviceRequestId,
          meta: { lastUpdated: assigned.lastUpdated },
          status: assigned.status,
          intent: 'plan',
          subject: { display: 'The patient of the request message' },
        },
      },
    ],
  };
}
