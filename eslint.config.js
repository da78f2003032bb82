// Lint rules: typescript-eslint's recommended set, with `any` banned at boundaries, and the architecture's
// dependency rules (docs/architecture.md) enforced here rather than by goodwill.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** One forbidden import: a regular expression over the import's module name, and why it is forbidden. */
const forbid = (regex, message) => ({ regex, message });

// Runtime code (what a Lambda bundles) never builds infrastructure, and reaches other modules by their alias.
const runtime = [
  forbid(
    '^(aws-cdk-lib|constructs|cdk-nag)(/|$)',
    'Runtime code must not import the CDK: it would be bundled into every Lambda.',
  ),
  forbid(
    '(^|/)infra/',
    'Runtime code must not import infra/: the system description it needs is in #system/.',
  ),
  forbid(
    '^\\.\\./.*\\.ts$',
    "Import another module by its alias (#referral/..., #kernel/...), not by '../'.",
  ),
];
// Use cases orchestrate through ports: no adapters, no AWS, no HTTP, no Lambda plumbing.
const application = [
  ...runtime,
  forbid(
    '^#(adapters|platform|http)/',
    'A use case works through ports; adapters, platform and http are wired in functions/.',
  ),
  forbid(
    '^(@aws-sdk|@aws-lambda-powertools|@middy)/',
    'A use case must not call AWS or Lambda tooling directly: use a port.',
  ),
];
// The domain is pure: it decides, and never does I/O or knows about use cases.
const domain = [
  ...application,
  forbid(
    '^#auth/',
    'The domain does not know who is calling: callers are checked in handlers and use cases.',
  ),
  forbid(
    '^#[a-z]+/application/',
    'The domain must not import use cases (application/): they depend on it, not the reverse.',
  ),
  forbid('^#[a-z]+/ports\\.ts$', 'The domain must not import ports: use cases hold them.'),
];
// The one system description is pure data, read by the stack, the local runtime and the functions alike.
const system = [
  forbid('^(?!\\./|#system/)', 'The system description (shared/system) imports nothing but its own files.'),
];

const restrict = (files, patterns) => ({
  files,
  rules: { 'no-restricted-imports': ['error', { patterns }] },
});

export default tseslint.config(
  { ignores: ['node_modules/', 'cdk.out/', '.data/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  // Later entries win for the files they match, so each layer lists its whole set.
  restrict(['shared/**/*.ts', 'functions/**/*.ts'], runtime),
  restrict(['shared/*/application/**/*.ts'], application),
  restrict(['shared/*/domain/**/*.ts', 'shared/fhir/**/*.ts', 'shared/kernel/**/*.ts'], domain),
  restrict(['shared/system/**/*.ts'], system),
  // Pages' scripts run in a browser (functions/*/assets/): its globals, and nothing from Node.
  {
    files: ['functions/*/assets/**/*.js'],
    languageOptions: {
      sourceType: 'module',
      globals: Object.fromEntries(
        ['document', 'window', 'fetch', 'sessionStorage', 'URLSearchParams', 'Option', 'atob'].map((name) => [
          name,
          'readonly',
        ]),
      ),
    },
  },
);
