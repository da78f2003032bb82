import type { SettingName } from '#system/functions.ts';

/**
 * Who issues the callers' tokens. The stack takes these as CDK context (`jwtIssuer`, `jwtAudience`, `jwksUrl`, see
 * docs/deploy.md) and hands them to the functions whose topology entry lists the matching `settings`.
 */
export interface TokenIssuerSettings {
  /**
   * The `iss` every token must carry, compared exactly (so keep a trailing slash if the issuer's tokens have one).
   * An https URL without query or fragment, as OpenID Connect requires of an issuer identifier.
   */
  readonly jwtIssuer: string;
  /** The `aud` every token must carry: the name the issuer knows this API by. */
  readonly jwtAudience: string;
  /**
   * Where the issuer publishes its signing keys (the `jwks_uri` of its discovery document), an https URL.
   * Default: `<jwtIssuer>/.well-known/jwks.json`, without doubling a trailing slash of the issuer.
   */
  readonly jwksUrl?: string;
}

/**
 * The email channel (docs/directory.md): the address its nudges come from (`emailFrom`, verified in SES) and the
 * inbox page they link to (`inboxUrl`, an https URL). Both optional: without them a webhook or worklist recipient
 * is served as before, and an email recipient's notices are retried, then dead-lettered (alarmed), saying which
 * setting is missing.
 */
export interface EmailSettings {
  readonly emailFrom?: string;
  readonly inboxUrl?: string;
}

/**
 * The value of every setting a function may ask for, checked. A setting that is wrong here would only show at run
 * time as every caller getting 401, so it fails the synth instead, naming the context key to fix.
 */
export function functionSettings(issuer: TokenIssuerSettings & EmailSettings): Record<SettingName, string> {
  const jwtIssuer = httpsUrl('jwtIssuer', issuer.jwtIssuer);
  if (jwtIssuer.search !== '' || jwtIssuer.hash !== '') {
    throw new Error(`jwtIssuer must have no query or fragment, got ${JSON.stringify(issuer.jwtIssuer)}`);
  }
  const audience = issuer.jwtAudience.trim();
  if (audience === '' || audience !== issuer.jwtAudience) {
    throw new Error(
      `jwtAudience must be a non-empty name without surrounding spaces, got ${JSON.stringify(issuer.jwtAudience)}`,
    );
  }
  const jwksUrl = issuer.jwksUrl ?? defaultJwksUrl(issuer.jwtIssuer);
  httpsUrl('jwksUrl', jwksUrl);
  if (issuer.inboxUrl !== undefined) httpsUrl('inboxUrl', issuer.inboxUrl);
  if (issuer.emailFrom !== undefined && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(issuer.emailFrom))
    throw new Error(`emailFrom must be an email address, got ${JSON.stringify(issuer.emailFrom)}`);
  return {
    JWT_ISSUER: issuer.jwtIssuer,
    JWT_AUDIENCE: audience,
    JWKS_URL: jwksUrl,
    INBOX_URL: issuer.inboxUrl ?? '',
    EMAIL_FROM: issuer.emailFrom ?? '',
  };
}

/** `https://login.example/` and `https://login.example` both give `https://login.example/.well-known/jwks.json`. */
export function defaultJwksUrl(jwtIssuer: string): string {
  return `${jwtIssuer.replace(/\/+$/, '')}/.well-known/jwks.json`;
}

/** Keys are fetched and tokens trusted only over TLS: anything but an https URL is refused. */
function httpsUrl(key: string, value: string): URL {
  const url = URL.parse(value);
  if (url === null || url.protocol !== 'https:' || url.hostname === '') {
    throw new Error(
      `${key} must be an https URL (set it with -c ${key}=https://... or in cdk.json), got ${JSON.stringify(value)}`,
    );
  }
  if (url.username !== '' || url.password !== '') {
    throw new Error(`${key} must not carry credentials, got a URL with a user name or password`);
  }
  return url;
}
