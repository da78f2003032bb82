import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

/**
 * The dependency rules of docs/architecture.md hold by lint (eslint.config.js), not by goodwill: each deliberate
 * violation below must be refused by `npm run lint`, and each allowed import must pass. The files named do not
 * exist; ESLint lints the text as if it lived there, with the project's own configuration.
 */

const eslint = new ESLint({ cwd: new URL('../../', import.meta.url).pathname });

async function restrictedImports(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

const violations: Array<[what: string, file: string, code: string]> = [
  [
    'a domain module importing an adapter',
    'shared/referral/domain/violation.ts',
    "import { DynamoReferralStore } from '#adapters/dynamodb/referral-store.ts';\nexport const x = DynamoReferralStore;\n",
  ],
  [
    'a domain module importing the AWS SDK',
    'shared/matching/domain/violation.ts',
    "import { DynamoDBClient } from '@aws-sdk/client-dynamodb';\nexport const x = DynamoDBClient;\n",
  ],
  [
    'a domain module importing http',
    'shared/fhir/inbound/violation.ts',
    "import { json } from '#http/responses.ts';\nexport const x = json;\n",
  ],
  [
    'a domain module importing infra',
    'shared/kernel/violation.ts',
    "import { startLocalStack } from '../../infra/local/local-stack.ts';\nexport const x = startLocalStack;\n",
  ],
  [
    'a domain module importing a use case',
    'shared/referral/domain/violation.ts',
    "import { submitReferral } from '#referral/application/submit-referral.ts';\nexport const x = submitReferral;\n",
  ],
  [
    'an outcomes domain module importing its port',
    'shared/outcomes/domain/violation.ts',
    "import type { OutcomeStore } from '#outcomes/ports.ts';\nexport type X = OutcomeStore;\n",
  ],
  [
    'a use case importing an adapter',
    'shared/referral/application/violation.ts',
    "import { SqsQueue } from '#adapters/sqs/sqs-queue.ts';\nexport const x = SqsQueue;\n",
  ],
  [
    'a use case importing Powertools',
    'shared/delivery/application/violation.ts',
    "import { Logger } from '@aws-lambda-powertools/logger';\nexport const x = Logger;\n",
  ],
  [
    'runtime code importing aws-cdk-lib',
    'shared/adapters/violation.ts',
    "import { Stack } from 'aws-cdk-lib';\nexport const x = Stack;\n",
  ],
  [
    'a function importing aws-cdk-lib',
    'functions/intake/violation.ts',
    "import { Duration } from 'aws-cdk-lib';\nexport const x = Duration;\n",
  ],
  [
    "runtime code reaching another module by '../'",
    'shared/referral/application/violation.ts',
    "import { ConflictError } from '../../kernel/errors.ts';\nexport const x = ConflictError;\n",
  ],
  [
    'the system description importing anything',
    'shared/system/violation.ts',
    "import { z } from 'zod';\nexport const x = z;\n",
  ],
  [
    'the system description importing runtime code',
    'shared/system/violation.ts',
    "import { ConflictError } from '#kernel/errors.ts';\nexport const x = ConflictError;\n",
  ],
];

const allowed: Array<[what: string, file: string, code: string]> = [
  [
    'a domain module importing the kernel and zod',
    'shared/referral/domain/allowed.ts',
    "import { z } from 'zod';\nimport { ConflictError } from '#kernel/errors.ts';\nexport const x = [z, ConflictError];\n",
  ],
  [
    'a use case importing ports and the domain',
    'shared/referral/application/allowed.ts',
    "import type { ReferralStore } from '#referral/ports.ts';\nimport { newReferral } from '#referral/domain/referral.ts';\nexport const x = (s: ReferralStore) => [s, newReferral];\n",
  ],
  [
    'an adapter importing the AWS SDK',
    'shared/adapters/dynamodb/allowed.ts',
    "import { GetCommand } from '@aws-sdk/lib-dynamodb';\nexport const x = GetCommand;\n",
  ],
  [
    'the system description importing its own files',
    'shared/system/allowed.ts',
    "import { routes } from './routes.ts';\nexport const x = routes;\n",
  ],
  [
    'infra importing aws-cdk-lib and the system description',
    'infra/constructs/allowed.ts',
    "import { Stack } from 'aws-cdk-lib';\nimport { tables } from '#system/tables.ts';\nexport const x = [Stack, tables];\n",
  ],
];

describe('lint boundaries (eslint.config.js)', () => {
  it.each(violations)('refuses %s', async (_what, file, code) => {
    expect(await restrictedImports(file, code)).not.toEqual([]);
  });

  it.each(allowed)('allows %s', async (_what, file, code) => {
    expect(await restrictedImports(file, code)).toEqual([]);
  });
});
