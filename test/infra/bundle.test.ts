/**
 * The functions bundled for real, with the local esbuild, exactly as `npm run synth` and `cdk deploy` bundle them.
 * A stack can be perfect on paper and still ship a bundle that does not start: an ES module whose bundled CommonJS
 * dependency calls `require`, a missing export, a module that throws at load. Each bundle here is loaded in a
 * separate Node process with the environment its function gets, which is the first thing Lambda does with it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { App, type CfnResource } from 'aws-cdk-lib';
import { beforeAll, describe, expect, it } from 'vitest';
import { maxBundleKb } from '../../bench/cold-start.ts';
import { functionSettings } from '../../infra/constructs/settings.ts';
import { ReferralStack } from '../../infra/stack.ts';
import { functionEnvironment } from '#system/environment.ts';
import { functionNames } from '#system/functions.ts';
import { type FunctionName } from '#system/names.ts';

// Valid-looking URLs: the authorizer builds its key set at load (jose fetches it only when a token arrives).
const issuer = { jwtIssuer: 'https://login.example.test', jwtAudience: 'social-prescribing-api' };

const requireBanner =
  "import { createRequire } from 'module'; const require = createRequire(import.meta.url);";

describe('function bundles', () => {
  let bundleDirectory: (name: FunctionName) => string;

  beforeAll(() => {
    // The CLI always asks for asset metadata; an App made in a test must ask for it to learn where bundles went.
    const app = new App({ context: { 'aws:cdk:enable-asset-metadata': true } });
    const stack = new ReferralStack(app, 'BundleTest', issuer);
    const assembly = app.synth();
    // Each function's code is an asset directory in the cloud assembly, named in the function's metadata.
    bundleDirectory = (name) => {
      const cfnFunction = stack.functions.byName[name].node.defaultChild as CfnResource;
      const assetPath: unknown = cfnFunction.getMetadata('aws:asset:path');
      if (typeof assetPath !== 'string') throw new Error(`${name} has no bundled asset`);
      return path.join(assembly.directory, assetPath);
    };
  });

  it.each(functionNames)('%s: an ES module that defines require, with a source map of our files', (name) => {
    const directory = bundleDirectory(name);
    const code = readFileSync(path.join(directory, 'index.mjs'), 'utf8');
    const sourceMap = JSON.parse(readFileSync(path.join(directory, 'index.mjs.map'), 'utf8')) as {
      sources: string[];
      sourcesContent?: unknown;
    };

    expect(code.startsWith(requireBanner)).toBe(true);
    expect(sourceMap.sources.some((source) => source.endsWith('handler.ts'))).toBe(true);
    // Positions only: the map lets stack traces name our files without shipping the source a second time.
    expect(sourceMap.sourcesContent).toBeUndefined();
    // The FHIR validator and its ~93 MB of R4 definitions are test-only (test/support/fhir-validator.ts).
    expect(sourceMap.sources.filter((source) => source.includes('@medplum/'))).toEqual([]);
  });

  // Only what the function uses: the bound issue 11 sets (bench/cold-start.ts measures the same and the import time).
  // Every function is under it, the notifier with its five SDK clients included (584 KB on 2 December 2026).
  it.each(functionNames)(`%s: bundle under ${maxBundleKb} KB minified`, (name) => {
    const kb = statSync(path.join(bundleDirectory(name), 'index.mjs')).size / 1024;
    expect(kb).toBeLessThan(maxBundleKb);
  });

  it.each(functionNames)('%s: loads in Node with its environment and exports handler', (name) => {
    const bundle = path.join(bundleDirectory(name), 'index.mjs');
    expect(existsSync(bundle)).toBe(true);
    const environment = functionEnvironment(
      name,
      (table) => `${table}-table`,
      (queue) => `https://sqs.eu-west-2.amazonaws.com/123456789012/${queue}`,
      (setting) => functionSettings(issuer)[setting],
      () => 'secretsmanager:BundleTest/recipients',
    );

    const loaded = spawnSync(
      process.execPath,
      [
        '--enable-source-maps',
        '--input-type=module',
        '--eval',
        `const m = await import(${JSON.stringify(pathToFileURL(bundle).href)});
         if (typeof m.handler !== 'function') { console.error('no handler export'); process.exit(2); }`,
      ],
      {
        encoding: 'utf8',
        env: { PATH: process.env.PATH, AWS_REGION: 'eu-west-2', ...environment },
        timeout: 30_000,
      },
    );

    expect(loaded.stderr).toBe('');
    expect(loaded.status).toBe(0);
  });
});
