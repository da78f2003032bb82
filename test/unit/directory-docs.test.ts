import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { odsColumns } from '#directory/domain/ods.ts';
import { categoryTerms } from '#directory/domain/oruk-taxonomy.ts';
import { interventionCategories } from '#referral/domain/categories.ts';

// docs/directory.md documents the taxonomy table and the ODS columns; these keep it equal to the code.

const doc = readFileSync(new URL('../../docs/directory.md', import.meta.url), 'utf8');
const lines = doc.split('\n');

describe('docs/directory.md', () => {
  it.each(interventionCategories)(
    'lists the taxonomy terms of %s exactly as the code reads them',
    (category) => {
      const term = categoryTerms[category];
      expect(lines).toContain(`| \`${category}\` | ${term.name} | ${term.alsoMatches.join(', ')} |`);
    },
  );

  it.each(odsColumns.map((column) => [column.field, column]))(
    'lists every header read as the ODS column %s, and whether it is required',
    (_field, column) => {
      const row = lines.find((line) => column.headers.every((header) => line.includes(`\`${header}\``)));
      expect(row, column.headers.join(', ')).toBeDefined();
      expect(row?.split('|')[3]?.trim()).toBe(column.required ? 'yes' : 'no');
    },
  );
});
