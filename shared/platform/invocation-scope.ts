import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * One invocation's memo: what every lookup of the invocation may share, asked once (the directory's version,
 * shared/adapters/dynamodb/directory-cache.ts). The handlers (shared/platform/handlers.ts) run each invocation in its
 * own scope; invocations that interleave (the local stack runs a function's concurrent invocations on one thread)
 * keep theirs apart.
 */

const scope = new AsyncLocalStorage<Map<string, Promise<unknown>>>();

export function withInvocationScope<T>(work: () => Promise<T>): Promise<T> {
  return scope.run(new Map(), work);
}

/** `ask`'s answer, asked once per invocation under `key`; outside an invocation, asked every time. */
export function oncePerInvocation<T>(key: string, ask: () => Promise<T>): Promise<T> {
  const memo = scope.getStore();
  if (!memo) return ask();
  const known = memo.get(key);
  if (known) return known as Promise<T>;
  const answer = ask();
  memo.set(key, answer);
  // A failed question is asked again by the next lookup rather than failing every one after it.
  answer.catch(() => memo.delete(key));
  return answer;
}
