import { randomInt, randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  LinkWorkerTeam,
  Partner,
  Service,
  type LinkWorkerTeam as Team,
  type Partner as PartnerRecord,
  type Service as ServiceRecord,
} from '#directory/domain/directory.ts';
import type { AreaKeys, Directory, DirectoryEditor } from '#directory/ports.ts';
import { ConflictError, NotFoundError, VersionConflictError } from '#kernel/errors.ts';

/**
 * What every DirectoryEditor promises, run on the in-memory fake (test/unit/directory-editor.contract.test.ts) and
 * on the DynamoDB adapter against the local DynamoDB (test/integration/directory-editor.contract.test.ts), each
 * read back through the Directory port matching uses (the fake's own, DynamoDirectory on the table): the index must
 * follow every edit, or matching reads the wrong directory. Every case uses fresh ids and a fresh PCN, so one table
 * serves the whole suite; `servicesCovering` answers are filtered to the case's own services.
 */

export interface DirectoryEditorUnderTest {
  editor: DirectoryEditor;
  /** The read side over the same data. */
  directory: Directory;
}

export function describeDirectoryEditorContract(
  name: string,
  make: () => DirectoryEditorUnderTest | Promise<DirectoryEditorUnderTest>,
): void {
  describe(`DirectoryEditor contract: ${name}`, () => {
    let editor: DirectoryEditor;
    let directory: Directory;
    let tag: string;
    let pcn: string;

    beforeEach(async () => {
      ({ editor, directory } = await make());
      tag = randomUUID().slice(0, 8);
      pcn = `U${String(randomInt(0, 100_000)).padStart(5, '0')}`;
    });

    const partner = (overrides: Partial<PartnerRecord> = {}): PartnerRecord =>
      Partner.parse({
        id: `partner-${tag}`,
        name: 'Food Share Leeds',
        channel: { kind: 'webhook', url: `https://hooks.example.test/partner/${tag}` },
        ...overrides,
      });
    const service = (overrides: Partial<ServiceRecord> = {}): ServiceRecord =>
      Service.parse({
        id: `service-${tag}`,
        partnerId: `partner-${tag}`,
        name: 'Community Pantry',
        categories: ['food'],
        coverage: { districts: ['LS6', 'LS7'] },
        ...overrides,
      });
    const team = (overrides: Partial<Team> = {}): Team =>
      LinkWorkerTeam.parse({
        id: `team-${tag}`,
        name: 'Contract link workers',
        pcn,
        channel: { kind: 'webhook', url: `https://hooks.example.test/team/${tag}` },
        ...overrides,
      });

    /** This case's services that the index lists for a need in an area, as matching reads them. */
    const covering = async (
      area: AreaKeys | string,
      category: ServiceRecord['categories'][number] = 'food',
    ) =>
      (
        await directory.servicesCovering(category, typeof area === 'string' ? { district: area } : area)
      ).filter((c) => c.service.id.endsWith(tag));
    const ids = async (area: AreaKeys | string, category?: ServiceRecord['categories'][number]) =>
      (await covering(area, category)).map((c) => c.service.id).sort();

    async function refusal(promise: Promise<unknown>): Promise<unknown> {
      try {
        await promise;
      } catch (error) {
        return error;
      }
      throw new Error('expected a refusal');
    }

    describe('create', () => {
      it('stores the record as given and lists a service in the index under each category and area', async () => {
        await editor.create('partner', partner());
        const created = await editor.create(
          'service',
          service({ categories: ['food', 'befriending'], coverage: service().coverage }),
        );
        expect(created).toEqual(service({ categories: ['food', 'befriending'] }));
        expect(await editor.get('service', `service-${tag}`)).toEqual(created);
        expect(await ids('LS6')).toEqual([`service-${tag}`]);
        expect(await ids('LS7', 'befriending')).toEqual([`service-${tag}`]);
        expect(await ids('LS8')).toEqual([]);
        const [candidate] = await covering('LS6');
        expect(candidate?.partner).toEqual({
          id: `partner-${tag}`,
          name: 'Food Share Leeds',
          status: 'active',
        });
        expect(candidate?.service).toEqual(created);
      });

      it('a second create with the same id and other content is refused, saying which version is stored, and keeps the first', async () => {
        await editor.create('partner', partner());
        const error = await refusal(editor.create('partner', partner({ name: 'Impostor' })));
        expect(error).toBeInstanceOf(VersionConflictError);
        expect(error).toMatchObject({ reason: 'exists', storedVersion: 1 });
        expect((error as Error).message).toContain('version 1');
        expect(await editor.get('partner', `partner-${tag}`)).toEqual(partner());
      });

      it('the same create again is a repeat: the stored record, nothing changed', async () => {
        await editor.create('partner', partner());
        await editor.create('service', service());
        await expect(editor.create('service', service())).resolves.toEqual(service());
        expect(await editor.get('service', `service-${tag}`)).toEqual(service());
        expect(await ids('LS6')).toEqual([`service-${tag}`]);
      });

      it('get answers undefined for an id never created', async () => {
        await expect(editor.get('team', `team-${tag}`)).resolves.toBeUndefined();
        await expect(editor.get('service', `service-${tag}`)).resolves.toBeUndefined();
      });
    });

    describe('replace', () => {
      it('writes version + 1 on the stored version', async () => {
        await editor.create('partner', partner());
        const replaced = await editor.replace('partner', partner({ name: 'Food Share' }), 1);
        expect(replaced).toEqual(partner({ name: 'Food Share', version: 2 }));
        expect(await editor.get('partner', `partner-${tag}`)).toEqual(replaced);
      });

      it('a stale replace changes nothing, record or index, and says which version is stored', async () => {
        await editor.create('partner', partner());
        await editor.create('service', service());
        await editor.replace('service', service({ name: 'Pantry' }), 1);
        const error = await refusal(
          editor.replace(
            'service',
            service({ coverage: { districts: ['LS9'], lsoas: [], localAuthorities: [] } }),
            1,
          ),
        );
        expect(error).toBeInstanceOf(VersionConflictError);
        expect(error).toMatchObject({ reason: 'stale', storedVersion: 2, expectedVersion: 1 });
        expect(await editor.get('service', `service-${tag}`)).toEqual(
          service({ name: 'Pantry', version: 2 }),
        );
        expect(await ids('LS6')).toEqual([`service-${tag}`]);
        expect(await ids('LS9')).toEqual([]);
        expect((await covering('LS6'))[0]?.service.name).toBe('Pantry');
      });

      it('the same replace sent again is a repeat: the stored record, no second version', async () => {
        await editor.create('partner', partner());
        await editor.replace('partner', partner({ name: 'Food Share' }), 1);
        await expect(editor.replace('partner', partner({ name: 'Food Share' }), 1)).resolves.toEqual(
          partner({ name: 'Food Share', version: 2 }),
        );
        expect((await editor.get('partner', `partner-${tag}`))?.version).toBe(2);
      });

      it('refuses an id that does not exist (not found), creating nothing', async () => {
        expect(await refusal(editor.replace('partner', partner(), 1))).toBeInstanceOf(NotFoundError);
        expect(await editor.get('partner', `partner-${tag}`)).toBeUndefined();
      });
    });

    describe('the coverage index follows each service', () => {
      beforeEach(async () => {
        await editor.create('partner', partner());
        await editor.create('service', service());
      });

      it("shrinking a service's coverage removes the old area; a new area, LSOA or local authority is listed", async () => {
        await editor.replace(
          'service',
          service({
            coverage: { districts: ['LS6'], lsoas: ['E01011331'], localAuthorities: ['E08000035'] },
          }),
          1,
        );
        expect(await ids('LS7')).toEqual([]);
        expect(await ids('LS6')).toEqual([`service-${tag}`]);
        expect(await ids({ district: 'LS99', lsoa: 'E01011331' })).toEqual([`service-${tag}`]);
        // Either of a postcode's LSOA codes (2011, 2021) finds it, once.
        expect(await ids({ district: 'LS99', lsoas: ['E01033015', 'E01011331'] })).toEqual([
          `service-${tag}`,
        ]);
        expect(await ids({ district: 'LS99', localAuthority: 'E08000035' })).toEqual([`service-${tag}`]);
      });

      it('a changed category moves the service to the new need', async () => {
        await editor.replace('service', service({ categories: ['befriending'] }), 1);
        expect(await ids('LS6', 'food')).toEqual([]);
        expect(await ids('LS6', 'befriending')).toEqual([`service-${tag}`]);
      });

      it('retiring a service removes it from servicesCovering, but get still returns it', async () => {
        await editor.replace('service', service({ status: 'retired' }), 1);
        expect(await ids('LS6')).toEqual([]);
        expect(await ids('LS7')).toEqual([]);
        expect(await editor.get('service', `service-${tag}`)).toEqual(
          service({ status: 'retired', version: 2 }),
        );
      });

      it('a paused service stays listed, paused, for matching to rule out with its reason', async () => {
        await editor.replace('service', service({ capacity: { state: 'paused' } }), 1);
        const [candidate] = await covering('LS6');
        expect(candidate?.service.capacity.state).toBe('paused');
        expect(candidate?.service.version).toBe(2);
      });

      it("renaming a partner shows in its services' candidates, and its response record too", async () => {
        const second = service({
          id: `second-service-${tag}`,
          coverage: { districts: ['LS6'], lsoas: [], localAuthorities: [] },
        });
        await editor.create('service', second);
        await editor.replace(
          'partner',
          partner({ name: 'Leeds Food Share', responseRecord: { answered: 10, accepted: 9 } }),
          1,
        );
        const candidates = await covering('LS6');
        expect(candidates).toHaveLength(2);
        for (const candidate of candidates)
          expect(candidate.partner).toEqual({
            id: `partner-${tag}`,
            name: 'Leeds Food Share',
            status: 'active',
            responseRecord: { answered: 10, accepted: 9 },
          });
        expect((await covering('LS7'))[0]?.partner.name).toBe('Leeds Food Share');
      });

      it("retiring a partner takes its services out of the index; the services' records are unchanged", async () => {
        await editor.replace('partner', partner({ status: 'retired' }), 1);
        expect(await ids('LS6')).toEqual([]);
        expect(await editor.get('service', `service-${tag}`)).toEqual(service());
      });

      it('a service moved to another partner carries that partner, and the old one renamed leaves it be', async () => {
        const other = partner({ id: `other-partner-${tag}`, name: 'Pantry Network' });
        await editor.create('partner', other);
        await editor.replace('service', service({ partnerId: other.id }), 1);
        await editor.replace('partner', partner({ name: 'Renamed' }), 1);
        const [candidate] = await covering('LS6');
        expect(candidate?.partner.id).toBe(other.id);
        expect(candidate?.partner.name).toBe('Pantry Network');
      });
    });

    describe("a PCN's link-worker team", () => {
      it('is the team routing finds for the PCN, with its channel', async () => {
        await editor.create('team', team());
        expect(await directory.teamForPcn(pcn)).toEqual(team());
        expect(await directory.channelOf('team', `team-${tag}`)).toEqual(team().channel);
      });

      it('a second active team for the same PCN is refused (conflict), and nothing of it is stored', async () => {
        await editor.create('team', team());
        const error = await refusal(editor.create('team', team({ id: `second-team-${tag}` })));
        expect(error).toBeInstanceOf(ConflictError);
        expect((error as Error).message).toContain(`team-${tag}`);
        expect(await editor.get('team', `second-team-${tag}`)).toBeUndefined();
        expect((await directory.teamForPcn(pcn))?.id).toBe(`team-${tag}`);
      });

      it('a retired team leaves its PCN without an active team, and another team may then take it', async () => {
        await editor.create('team', team());
        await editor.replace('team', team({ status: 'retired' }), 1);
        expect(await directory.teamForPcn(pcn)).toMatchObject({ id: `team-${tag}`, status: 'retired' });
        await editor.create('team', team({ id: `second-team-${tag}` }));
        expect((await directory.teamForPcn(pcn))?.id).toBe(`second-team-${tag}`);
        // Editing the retired team later does not take the PCN back.
        await editor.replace('team', team({ status: 'retired', name: 'Old link workers' }), 2);
        expect((await directory.teamForPcn(pcn))?.id).toBe(`second-team-${tag}`);
        expect(await editor.get('team', `team-${tag}`)).toMatchObject({
          name: 'Old link workers',
          version: 3,
        });
      });

      it('a team moved to another PCN leaves the old one', async () => {
        const otherPcn = `U${String((Number(pcn.slice(1)) + 50_000) % 100_000).padStart(5, '0')}`;
        await editor.create('team', team());
        await editor.replace('team', team({ pcn: otherPcn, id: `team-${tag}` }), 1);
        expect(await directory.teamForPcn(pcn)).toBeUndefined();
        expect((await directory.teamForPcn(otherPcn))?.id).toBe(`team-${tag}`);
        await editor.replace('team', team({ pcn: otherPcn, status: 'retired' }), 2);
      });

      it('an active team may not move into a PCN another active team serves', async () => {
        await editor.create('team', team());
        const elsewhere = `U${String((Number(pcn.slice(1)) + 1) % 100_000).padStart(5, '0')}`;
        await editor.create('team', team({ id: `second-team-${tag}`, pcn: elsewhere }));
        const error = await refusal(editor.replace('team', team({ id: `second-team-${tag}`, pcn }), 1));
        expect(error).toBeInstanceOf(ConflictError);
        expect(await editor.get('team', `second-team-${tag}`)).toMatchObject({ pcn: elsewhere, version: 1 });
        expect((await directory.teamForPcn(pcn))?.id).toBe(`team-${tag}`);
      });
    });

    it('list gives every record of a kind', async () => {
      await editor.create('partner', partner());
      await editor.create('partner', partner({ id: `second-partner-${tag}` }));
      await editor.create('service', service());
      const partners: string[] = [];
      for await (const record of editor.list('partner')) partners.push(record.id);
      expect(partners).toEqual(expect.arrayContaining([`partner-${tag}`, `second-partner-${tag}`]));
      expect(partners).not.toContain(`service-${tag}`);
      const services: string[] = [];
      for await (const record of editor.list('service')) services.push(record.id);
      expect(services).toContain(`service-${tag}`);
    });

    it('putPractices puts PCNs and practices as they are; putting them again changes nothing', async () => {
      const ods = `Z${String(randomInt(0, 100_000)).padStart(5, '0')}`;
      const practice = { ods, name: 'Contract Surgery', pcn, area: 'LS6' };
      await editor.putPractices([{ code: pcn, name: 'Contract PCN', icb: 'Contract ICB' }], [practice]);
      await editor.putPractices([{ code: pcn, name: 'Contract PCN', icb: 'Contract ICB' }], [practice]);
      expect(await directory.practice(ods)).toEqual(practice);
    });

    describe('pcn', () => {
      const contractPcn = (name = 'Contract PCN') => ({ code: pcn, name, icb: 'Contract ICB' });

      it('answers a PCN as putPractices last put it', async () => {
        await editor.putPractices([contractPcn('Contract PCN (old name)')], []);
        await editor.putPractices([contractPcn()], []);
        expect(await editor.pcn(pcn)).toEqual(contractPcn());
      });

      it('answers undefined for a code never put, even one a team names (its team is not the PCN)', async () => {
        await editor.create('team', team());
        expect(await editor.pcn(pcn)).toBeUndefined();
      });

      it("is still answered once a team serves it, and the team's writes leave it as put", async () => {
        await editor.putPractices([contractPcn()], []);
        await editor.create('team', team());
        await editor.replace('team', team({ status: 'retired' }), 1);
        expect(await editor.pcn(pcn)).toEqual(contractPcn());
        expect(await directory.teamForPcn(pcn)).toMatchObject({ id: `team-${tag}`, status: 'retired' });
      });
    });
  });
}
