import { parseArgs } from 'node:util';

/**
 * `npm run token -- --role gp-system --ods A81001`: prints a bearer token from the running local stack's
 * development issuer (ISSUER_URL, default http://127.0.0.1:3002).
 *   --role gp-system|link-worker|partner|ops|admin
 *   --ods A81001 (repeatable, gp-system)  --team ID (link-worker)  --partner ID (partner)
 *   --subject NAME   --expires-in SECONDS (default 3600)
 */

const { values } = parseArgs({
  options: {
    role: { type: 'string' },
    ods: { type: 'string', multiple: true },
    team: { type: 'string' },
    partner: { type: 'string' },
    subject: { type: 'string' },
    'expires-in': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});

if (values.help || !values.role) {
  console.error(
    'Usage: npm run token -- --role gp-system --ods A81001 [--ods A81002]\n' +
      '       npm run token -- --role link-worker --team lw-woodhouse\n' +
      '       npm run token -- --role partner --partner arts-for-all\n' +
      '       npm run token -- --role ops | admin\n' +
      'Options: --subject NAME, --expires-in SECONDS. Needs the local stack running (npm start).',
  );
  process.exit(values.help ? 0 : 2);
}

const issuerUrl = process.env.ISSUER_URL ?? `http://127.0.0.1:${process.env.ISSUER_PORT ?? '3002'}`;
const request = {
  role: values.role,
  ...(values.ods ? { ods: values.ods } : {}),
  ...(values.team ? { team: values.team } : {}),
  ...(values.partner ? { partner: values.partner } : {}),
  ...(values.subject ? { subject: values.subject } : {}),
  ...(values['expires-in'] ? { expiresInSeconds: Number(values['expires-in']) } : {}),
};

let response: Response;
try {
  response = await fetch(`${issuerUrl}/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(request),
  });
} catch {
  console.error(`No development issuer at ${issuerUrl}: start the local stack first (npm start).`);
  process.exit(1);
}
const body = (await response.json()) as { token?: string; error?: string };
if (!response.ok || !body.token) {
  console.error(`The issuer refused: ${body.error ?? response.status}`);
  process.exit(1);
}
console.log(body.token);
