/**
 * What the function bundles get instead of `@aws-sdk/credential-provider-node` (the SDK's default credential chain),
 * by esbuild's alias in infra/constructs/functions.ts. Lambda always hands a function its role's credentials in
 * AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, so the chain's other providers (SSO, INI files,
 * process, web identity, container and instance metadata) could never answer there; bundled, they and the STS and
 * SSO clients they carry were about 130 KB of every function's bundle. `npm start` and the tests run the source, not
 * the bundles, so they keep the full chain (and its static local credentials from the environment).
 */
export { fromEnv as defaultProvider } from '@aws-sdk/credential-provider-env';
