import { defineConfig } from 'vitest/config';

/**
 * The at-least-once torture suite (`npm run test:soak`, which .ci/run runs after `npm test`) takes minutes of the
 * whole machine, so it is a project only when asked for by name (`--project soak`): `npm test` does not run it.
 */
const soakAsked = process.argv.some(
  (arg, i) => arg === '--project=soak' || (arg === '--project' && process.argv[i + 1] === 'soak'),
);
const soak = {
  test: { name: 'soak', include: ['test/soak/**/*.test.ts'], testTimeout: 900_000, hookTimeout: 120_000 },
};

// Four suites, each its own vitest project: `npm test` runs them all, `npm run test:<suite>` one.
export default defineConfig({
  test: {
    projects: [
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'], setupFiles: ['test/unit/setup.ts'] } },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        // Integration and contract suites again on Amazon's DynamoDB Local, strict where dynalite is lenient
        // (ReturnValuesOnConditionCheckFailure, the SDK's own error classes, map order), so neither hides a bug. Not
        // every file: all of them again would add minutes to `npm test` on two cores. These are the ones whose
        // DynamoDB use differs between the servers: every adapter's contract, the request counts (the proxy), the
        // key schema and indexes (provision, offer deadlines), conditional writes and chains (audit trail, exact
        // figures, case work, outcomes), Powertools idempotency's conditional put with the item returned on failure
        // (intake, in-progress expiry), batch writes (geography import), and the router and notifier with their
        // exact request counts (routing and delivery), the directory cache and the audit chain's known head.
        test: {
          name: 'integration-dynamodb-local',
          include: [
            'test/integration/*.contract.test.ts',
            'test/integration/local-aws-request-counts.test.ts',
            'test/integration/provision.test.ts',
            'test/integration/offer-deadlines.test.ts',
            'test/integration/audit-trail.test.ts',
            'test/integration/exact-figures.test.ts',
            'test/integration/case-work.test.ts',
            'test/integration/outcomes.test.ts',
            'test/integration/intake.test.ts',
            'test/integration/in-progress-expiry.test.ts',
            'test/integration/geography-import.test.ts',
            'test/integration/routing-and-delivery.test.ts',
            'test/integration/directory-cache.test.ts',
            'test/integration/audit-known-head.test.ts',
            'test/integration/request-accounting.test.ts',
          ],
          env: { LOCAL_DYNAMODB: 'dynamodb-local' },
          // One Java server for the run, a database per test file on it (test/support/dynamodb-local-server.ts).
          globalSetup: ['test/support/dynamodb-local-server.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'infra',
          include: ['test/infra/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'hostile',
          include: ['test/hostile/**/*.test.ts'],
          testTimeout: 600_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // A page waits on the whole local stack: 1 s (the default) is too short when CI's two cores are busy with
          // the other projects, as seen on 2 December 2026 (the inbox page's status not yet shown after a click).
          expect: { poll: { timeout: 10_000 } },
        },
      },
      ...(soakAsked ? [soak] : []),
    ],
  },
});
