import { beforeEach, describe, expect, it } from 'vitest';
import type { Deprivation, PostcodeLocation } from '#geography/domain/geography.ts';
import type { Geography, GeographyWriter } from '#geography/ports.ts';

/**
 * What the geography store promises, run against the in-memory fake (test/unit/geography.contract.test.ts) and the
 * DynamoDB adapter on the local DynamoDB (test/integration/geography.contract.test.ts): lookups by postcode in any
 * spelling, terminated postcodes kept and marked, absent fields absent, puts idempotent (the last one wins), and
 * batches of any size stored whole. Every case uses postcodes and LSOAs of its own, so one table serves the suite.
 */

let serial = 0;
const letters = 'ABDEFGHJLNPQRSTUWXYZ';

/** A postcode no other case uses: the run's random area and a serial number make it unique. */
function freshPostcode(area: string): { postcode: string; district: string } {
  const n = serial++;
  const district = `${area}${(n % 90) + 10}`;
  const inward = `${Math.floor(n / 90) % 10}${letters[Math.floor(n / 900) % 20]}${letters[Math.floor(n / 18_000) % 20]}`;
  return { postcode: `${district} ${inward}`, district };
}

function freshLsoa(): string {
  return `E01${String(100_000 + Math.floor(Math.random() * 800_000) + (serial++ % 1000)).padStart(6, '0')}`;
}

export function describeGeographyContract(
  name: string,
  make: () => (Geography & GeographyWriter) | Promise<Geography & GeographyWriter>,
): void {
  describe(`Geography contract: ${name}`, () => {
    let store: Geography & GeographyWriter;
    // Two capital letters per run, so runs against a kept table do not meet each other's postcodes either.
    const area = `${letters[Math.floor(Math.random() * 20)]}${letters[Math.floor(Math.random() * 20)]}`;
    const location = (overrides: Partial<PostcodeLocation> = {}): PostcodeLocation => ({
      ...freshPostcode(area),
      lsoa21: 'E01011331',
      localAuthority: 'E08000035',
      country: 'E92000001',
      terminated: false,
      ...overrides,
    });

    beforeEach(async () => {
      store = await make();
    });

    it('finds a postcode it was given, in any spelling', async () => {
      const live = location();
      await store.putLocations([live]);
      const compact = live.postcode.replace(' ', '');
      for (const spelling of [
        live.postcode,
        compact,
        compact.toLowerCase(),
        ` ${live.postcode.toLowerCase()} `,
      ]) {
        await expect(store.locate(spelling)).resolves.toEqual(live);
      }
    });

    it('keeps a terminated postcode, marked terminated with its month', async () => {
      const gone = location({ terminated: true, terminatedOn: '201906' });
      await store.putLocations([gone]);
      await expect(store.locate(gone.postcode)).resolves.toEqual(gone);
    });

    it('leaves absent fields absent, and keeps a 2011 LSOA beside the 2021 one', async () => {
      const bare: PostcodeLocation = { ...freshPostcode(area), terminated: false };
      const both = location({ lsoa11: 'E01005108', lsoa21: 'E01034113' });
      await store.putLocations([bare, both]);
      const found = await store.locate(bare.postcode);
      expect(found).toEqual(bare);
      expect(Object.keys(found ?? {}).sort()).toEqual(['district', 'postcode', 'terminated']);
      await expect(store.locate(both.postcode)).resolves.toEqual(both);
    });

    it('answers undefined for a postcode never loaded, or text that is not a postcode', async () => {
      await expect(store.locate(freshPostcode(area).postcode)).resolves.toBeUndefined();
      await expect(store.locate('not a postcode')).resolves.toBeUndefined();
      await expect(store.locate('')).resolves.toBeUndefined();
    });

    it('a put of the same postcode again replaces it (imports are idempotent; the last write wins)', async () => {
      const first = location();
      await store.putLocations([first]);
      await store.putLocations([first]);
      const moved = { ...first, lsoa21: 'E01034113', terminated: true, terminatedOn: '202401' };
      await store.putLocations([moved]);
      await expect(store.locate(first.postcode)).resolves.toEqual(moved);
    });

    it('a batch naming the same postcode twice stores the later one', async () => {
      const first = location();
      const later = { ...first, lsoa21: 'E01000001' };
      await store.putLocations([first, later]);
      await expect(store.locate(first.postcode)).resolves.toEqual(later);
    });

    it('stores every item of a batch larger than one request', async () => {
      const batch = Array.from({ length: store.batchSize * 2 + 3 }, () => location());
      await store.putLocations(batch);
      const found = await Promise.all(batch.map((l) => store.locate(l.postcode)));
      expect(found).toEqual(batch);
    });

    it("gives an LSOA's deprivation by edition, and only for the edition loaded", async () => {
      const lsoa = freshLsoa();
      const in2019: Deprivation = { edition: '2019', lsoa, rank: 1_593, decile: 1 };
      await store.putDeprivation([in2019]);
      await expect(store.deprivation(lsoa, '2019')).resolves.toEqual(in2019);
      await expect(store.deprivation(lsoa.toLowerCase(), '2019')).resolves.toEqual(in2019);
      await expect(store.deprivation(lsoa, '2025')).resolves.toBeUndefined();
      const in2025: Deprivation = { edition: '2025', lsoa, rank: 30_001, decile: 9 };
      await store.putDeprivation([in2025]);
      await expect(store.deprivation(lsoa, '2025')).resolves.toEqual(in2025);
      await expect(store.deprivation(lsoa, '2019')).resolves.toEqual(in2019);
      await expect(store.deprivation(freshLsoa(), '2019')).resolves.toBeUndefined();
    });

    it('an empty batch writes nothing and does not fail', async () => {
      await expect(store.putLocations([])).resolves.toBeUndefined();
      await expect(store.putDeprivation([])).resolves.toBeUndefined();
    });
  });
}
