import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { reportNames, suppressedValue, suppressionThreshold } from '#reporting/domain/report-shape.ts';
import { reportDefinitions } from '#reporting/domain/reports/catalogue.ts';
import { suppressedDerivedValue } from '#reporting/domain/reports/suppression.ts';

// docs/reports.md describes each report's columns and the suppression rule; these keep it equal to the code.

const doc = readFileSync(new URL('../../docs/reports.md', import.meta.url), 'utf8');

/** The `| \`column\` | kind | ... |` rows of the section `### <report>`. */
function documentedColumns(report: string): Array<[string, string]> {
  const start = doc.indexOf(`\n### ${report}\n`);
  expect(start, `docs/reports.md has a section "### ${report}"`).toBeGreaterThan(0);
  const end = doc.indexOf('\n## ', start + 1);
  const section = doc.slice(start, end < 0 ? undefined : end).split('\n### ')[1] ?? '';
  return [...section.matchAll(/^\| `([A-Za-z]+)` +\| (label|count|total|derived) +\|/gm)].map(
    ([, column = '', kind = '']) => [column, kind],
  );
}

describe('docs/reports.md', () => {
  it.each(reportNames)('%s: every column, in order, with its kind', (report) => {
    expect(documentedColumns(report)).toEqual(
      reportDefinitions[report].columns.map((column) => [column.name, column.kind]),
    );
  });

  it('lists every report route and states the threshold and the markers', () => {
    for (const report of reportNames) expect(doc).toContain(`| \`GET /reports/${report}\``);
    expect(doc).toContain(
      `every count from 1 to ${suppressionThreshold - 1} is shown as the string \`${suppressedValue}\``,
    );
    expect(doc).toContain(`\`${suppressedDerivedValue}\``);
    expect(doc).toContain('primary suppression');
  });
});
