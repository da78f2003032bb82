import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { lifecycleMarkdown } from '#referral/domain/lifecycle.ts';

/** docs/architecture.md shows the lifecycle tables as the code has them; a change to the table changes the docs. */
describe('docs/architecture.md lifecycle tables', () => {
  const docs = readFileSync(new URL('../../docs/architecture.md', import.meta.url), 'utf8');

  it.each(['referral', 'offer'] as const)(
    'holds the %s table as lifecycleMarkdown() renders it',
    (entity) => {
      expect(docs).toContain(lifecycleMarkdown(entity).trimEnd());
    },
  );
});
