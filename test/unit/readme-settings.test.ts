import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// The README's settings table names every environment variable `npm start` reads, with the default start.ts uses.

const read = (path: string): string => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

describe('README settings table', () => {
  const start = read('infra/local/start.ts');
  const readme = read('README.md');
  const settingsRows = readme.split('\n').filter((line) => line.startsWith('| `'));

  const ports = [...start.matchAll(/port\('([A-Z_]+)', (\d+)\)/g)].map(([, name, fallback]) => ({
    name,
    fallback,
  }));
  const variables = [...start.matchAll(/process\.env\.([A-Z_]+)/g)].map(([, name]) => name);

  it('finds the settings start.ts reads (so this test checks something)', () => {
    expect(ports.map((p) => p.name)).toEqual(expect.arrayContaining(['PORT', 'ISSUER_PORT']));
  });

  it.each(ports)('lists $name with its default $fallback', ({ name, fallback }) => {
    const row = settingsRows.find((line) => line.includes(`\`${name}\``));
    expect(row, `no README row for ${name}`).toBeDefined();
    expect(row).toContain(fallback);
  });

  it('lists every other variable start.ts reads', () => {
    for (const name of new Set(variables)) {
      expect(
        settingsRows.some((line) => line.includes(`\`${name}\``)),
        `no README row for ${name}`,
      ).toBe(true);
    }
  });
});
