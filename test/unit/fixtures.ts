import { readFileSync } from 'node:fs';
import { readDirectory, sampleDirectoryFile } from '../../infra/local/seed.ts';
import type { DirectorySnapshot } from '#directory/domain/directory.ts';
import { newReferral, ReferralRequest, type Referral } from '#referral/domain/referral.ts';

/** Shared test inputs: the sample directory and the sample referrals under events/. */

export const webhookBase = 'http://127.0.0.1:3001';

export function sampleDirectory(): DirectorySnapshot {
  return readDirectory(sampleDirectoryFile, webhookBase);
}

export const sampleNames = [
  'leeds-arts-and-mental-health',
  'blackpool-benefits-and-activity',
  'hastings-befriending-no-consent',
] as const;
export type SampleName = (typeof sampleNames)[number];

/** A sample referral body exactly as a GP system would POST it (fresh copy on every call). */
export function sampleBody(name: SampleName): Record<string, unknown> {
  const file = new URL(`../../events/referrals/${name}.json`, import.meta.url);
  return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
}

export function sampleRequest(name: SampleName): ReferralRequest {
  return ReferralRequest.parse(sampleBody(name));
}

export const referralIds: Record<SampleName, string> = {
  'leeds-arts-and-mental-health': '11111111-1111-4111-8111-111111111111',
  'blackpool-benefits-and-activity': '22222222-2222-4222-8222-222222222222',
  'hastings-befriending-no-consent': '33333333-3333-4333-8333-333333333333',
};

export const receivedAt = '2025-03-04T09:15:00.000Z';

export function sampleReferral(name: SampleName, overrides: Partial<Referral> = {}): Referral {
  return { ...newReferral(referralIds[name], sampleRequest(name), receivedAt), ...overrides };
}
