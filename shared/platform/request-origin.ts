import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { AuditEntry, AuditLog, AuditOrigin } from '#audit/ports.ts';
import type { Caller } from '#auth/caller.ts';

/**
 * Who made the HTTP request being served, and its ids, for the audit trail. httpHandler runs each operation inside
 * `withRequestOrigin`, and a function's audit log wrapped in `requestAudited` stamps every entry appended meanwhile
 * (the person's own step and whatever the system does because of it) with `who`, X-Request-ID and
 * X-Correlation-ID. The use cases' append calls stay as they are: no call site can forget it, and an entry written
 * outside a request (a queue consumer, the deadline job, a CLI) is left alone.
 */

const current = new AsyncLocalStorage<AuditOrigin>();

/** Header values are the client's: kept only when plain (printable ASCII, at most 200), else left out. */
const plainHeader = /^[\x21-\x7e]{1,200}$/;

function headerOf(event: Pick<APIGatewayProxyEvent, 'headers'>, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(event.headers ?? {}))
    if (key.toLowerCase() === wanted && value !== undefined)
      return plainHeader.test(value) ? value : undefined;
  return undefined;
}

/** The request's origin; undefined for a public route's anonymous caller (nothing to attribute). */
export function requestOriginOf(
  event: Pick<APIGatewayProxyEvent, 'headers' | 'requestContext'>,
  caller: Caller | undefined,
): AuditOrigin | undefined {
  if (!caller) return undefined;
  const [organisation] = caller.organisations;
  const requestId = headerOf(event, 'X-Request-ID');
  const correlationId = headerOf(event, 'X-Correlation-ID');
  return {
    who: {
      principal: caller.subject,
      ...(organisation === undefined ? {} : { organisation }),
      role: caller.role,
    },
    ...(requestId === undefined ? {} : { requestId }),
    ...(correlationId === undefined ? {} : { correlationId }),
    // API Gateway's id for this request (the local gateway makes one too); a test event without one gets its own.
    requestKey: event.requestContext?.requestId || randomUUID(),
  };
}

export function withRequestOrigin<T>(origin: AuditOrigin | undefined, run: () => Promise<T>): Promise<T> {
  return origin === undefined ? run() : current.run(origin, run);
}

export function currentRequestOrigin(): AuditOrigin | undefined {
  return current.getStore();
}

/** The audit log, each entry appended while a request is served stamped with its origin (the entry's own win). */
export function requestAudited(log: AuditLog): AuditLog {
  return {
    append(entry: AuditEntry, hint?: Parameters<AuditLog['append']>[1]): Promise<void> {
      const origin = current.getStore();
      if (origin === undefined) return log.append(entry, hint);
      return log.append(
        {
          who: origin.who,
          ...(origin.requestId === undefined ? {} : { requestId: origin.requestId }),
          ...(origin.correlationId === undefined ? {} : { correlationId: origin.correlationId }),
          ...entry,
        },
        hint,
      );
    },
  };
}
