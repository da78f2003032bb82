import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineCommand } from '../cli/args.ts';

/** `npm run openapi`: writes the generated OpenAPI document to docs/openapi.json (a unit test compares the two). */

defineCommand({
  synopsis: ['npm run openapi'],
  summary: 'Writes the OpenAPI document generated from the routes to docs/openapi.json.',
  options: {},
  environment: {},
  examples: ['npm run openapi && git diff docs/openapi.json'],
}).parse();
// Loaded once the arguments are good: the routes' schemas take a moment to load.
const { openApiJson } = await import('#http/openapi.ts');

const target = fileURLToPath(new URL('../../docs/openapi.json', import.meta.url));
writeFileSync(target, openApiJson());
console.log(`Wrote ${target}`);
