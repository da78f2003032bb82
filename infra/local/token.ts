import { roles } from '#system/routes.ts';
import { defineCommand } from '../cli/args.ts';

/**
 * `npm run token -- --role gp-system --ods A81001`: prints a bearer token from the running local stack's
 * development issuer (ISSUER_URL, default http://127.0.0.1:3002).
 *   --role gp-system|link-worker|partner|ops|admin
 *   --ods A81001 (repeatable, gp-system)  --team ID (link-worker)  --partner ID (partner)
 *   --subject NAME   --expires-in SECONDS (default 3600)
 */

const command = defineCommand({
  synopsis: [
    'npm run -s token -- --role gp-system --ods A81001 [--ods A81002]',
    'npm run -s token -- --role link-worker --team lw-woodhouse',
    'npm run -s token -- --role partner --partner arts-for-all',
    'npm run -s token -- --role ops|admin',
  ],
  summary:
    "Prints a bearer token from the running local stack's development issuer (start it with npm start).",
  options: {
    role: {
      type: 'string',
      required: true,
      choices: roles,
      placeholder: 'ROLE',
      description: 'who the token is for',
    },
    ods: {
      type: 'string',
      multiple: true,
      placeholder: 'CODE',
      description: "a practice's ODS code, for gp-system",
    },
    team: { type: 'string', placeholder: 'ID', description: 'the team, for link-worker' },
    partner: { type: 'string', placeholder: 'ID', description: 'the partner organisation, for partner' },
    subject: {
      type: 'string',
      placeholder: 'NAME',
      description: "the token's subject (default <role>-client)",
    },
    'expires-in': {
      type: 'string',
      placeholder: 'SECONDS',
      description: 'lifetime; negative for an already-expired token, as --expires-in=-60 (default 3600)',
    },
  },
  environment: {
    ISSUER_URL: 'the development issuer (http://127.0.0.1:$ISSUER_PORT)',
    ISSUER_PORT: 'issuer port, when ISSUER_URL is unset (3002)',
  },
  examples: ['TOKEN=$(npm run -s token -- --role gp-system --ods A81001)'],
});
const values = command.parse();
const expiresIn = values['expires-in'];
if (expiresIn !== undefined && !/^-?\d+$/.test(expiresIn)) {
  command.fail(`--expires-in must be a whole number of seconds, not "${expiresIn}"`);
}
const expiresInSeconds = expiresIn === undefined ? undefined : Number(expiresIn);

const issuerUrl = process.env.ISSUER_URL ?? `http://127.0.0.1:${process.env.ISSUER_PORT ?? '3002'}`;
const request = {
  role: values.role,
  ...(values.ods ? { ods: values.ods } : {}),
  ...(values.team ? { team: values.team } : {}),
  ...(values.partner ? { partner: values.partner } : {}),
  ...(values.subject ? { subject: values.subject } : {}),
  ...(expiresInSeconds !== undefined ? { expiresInSeconds } : {}),
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
