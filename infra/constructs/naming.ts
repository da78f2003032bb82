/**
 * Small helpers that turn the topology's names into CDK construct ids and typed lookups, so every construct
 * names its resources the same way and no construct repeats a list of tables, queues or functions by hand.
 */

/** `referralStatus` -> `ReferralStatus`: construct ids (and so logical ids and output names) read like the topology. */
export function constructId(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}

/**
 * Builds one value per topology name, typed by that name. `Object.fromEntries` forgets the key type, so the cast
 * lives here once, where it is plainly safe: every name in `names` gets exactly one entry.
 */
export function byName<Name extends string, Value>(
  names: readonly Name[],
  make: (name: Name) => Value,
): Record<Name, Value> {
  return Object.fromEntries(names.map((name) => [name, make(name)])) as Record<Name, Value>;
}

/** `Object.entries` with the key type kept, for the topology's `Partial<Record<...>>` maps such as table grants. */
export function entriesOf<Key extends string, Value>(
  record: Partial<Record<Key, Value>>,
): Array<[Key, Value]> {
  return Object.entries(record) as Array<[Key, Value]>;
}
