import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { openApiJson } from '../../shared/http/openapi.ts';

/** `npm run openapi`: writes the generated OpenAPI document to docs/openapi.json (a unit test compares the two). */

const target = fileURLToPath(new URL('../../docs/openapi.json', import.meta.url));
writeFileSync(target, openApiJson());
console.log(`Wrote ${target}`);
