import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// docs/clinical-safety.md names, for every hazard, the tests that show its control works. This keeps the names
// true: a renamed or deleted test, or a row left without a cause, control or test, fails here.

const root = new URL('../../', import.meta.url);
const doc = readFileSync(new URL('docs/clinical-safety.md', root), 'utf8');

interface HazardRow {
  id: string;
  hazard: string;
  cause: string;
  control: string;
  tests: string[][];
}

function hazardRows(markdown: string): HazardRow[] {
  return markdown
    .split('\n')
    .filter((line) => /^\|\s*H\d+\s*\|/.test(line))
    .map((line) => {
      const [id = '', hazard = '', cause = '', control = '', shownBy = ''] = line
        .slice(1, line.lastIndexOf('|'))
        .split('|')
        .map((cell) => cell.trim());
      // Each test is a code span `file › describe › ... › title`.
      const tests = [...shownBy.matchAll(/`([^`]+ › [^`]+)`/g)].map((m) => (m[1] ?? '').split(' › '));
      return { id, hazard, cause, control, tests };
    });
}

const rows = hazardRows(doc);

describe('docs/clinical-safety.md', () => {
  it('lists the hazards, each id once', () => {
    expect(rows.length).toBeGreaterThanOrEqual(19);
    expect(new Set(rows.map((r) => r.id)).size).toBe(rows.length);
  });

  it('gives every hazard a cause, a control and at least one named test', () => {
    for (const row of rows) {
      expect(row.hazard, row.id).not.toBe('');
      expect(row.cause, row.id).not.toBe('');
      expect(row.control, row.id).not.toBe('');
      expect(row.tests.length, `${row.id} names no test`).toBeGreaterThan(0);
    }
  });

  it('names only tests that exist: the file, and each describe and title in it', () => {
    for (const row of rows)
      for (const [file = '', ...names] of row.tests) {
        expect(file, row.id).toMatch(/^test\/.+\.test\.ts$/);
        expect(existsSync(new URL(file, root)), `${row.id}: ${file} does not exist`).toBe(true);
        expect(names.length, `${row.id}: ${file} names no describe and title`).toBeGreaterThanOrEqual(2);
        const source = readFileSync(new URL(file, root), 'utf8');
        for (const name of names)
          expect(source.includes(name), `${row.id}: "${name}" is not in ${file}`).toBe(true);
      }
  });
});
