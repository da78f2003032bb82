import {
  BatchWriteCommand,
  GetCommand,
  QueryCommand,
  type BatchWriteCommandOutput,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import type { InterventionCategory } from '#referral/domain/categories.ts';
import type {
  DirectorySnapshot,
  LinkWorkerTeam,
  Partner,
  Practice,
  RecipientKind,
  Service,
  RecipientChannel,
} from '#directory/domain/directory.ts';
import { candidateOf, type ServiceCandidate } from '#directory/domain/coverage.ts';
import type { AreaKeys, Directory } from '#directory/ports.ts';
import { markDirectoryChanged } from '#adapters/dynamodb/directory-cache.ts';

/**
 * Directory table, single-table design. Every lookup the flow makes is one GetItem or one Query:
 *   PRACTICE#<ods>              PROFILE        the practice (and its PCN and area)
 *   PCN#<code>                  PROFILE        the PCN (name, ICB), from the ODS membership file
 *   PCN#<code>                  TEAM           the PCN's link-worker team
 *   TEAM#<id> | PARTNER#<id>    PROFILE        a recipient and its delivery channel (never its secret)
 *   SERVICE#<id>                PROFILE        a VCSE service
 *   COVERAGE#<category>#<area>  SERVICE#<id>   coverage index: which services offer a need in an area, where the
 *                                              area is `D:<district>`, `L:<lsoa>` or `A:<local authority>`
 * A coverage entry carries the service and its partner's name and response record, so matching a need in an area
 * is one Query per area key whatever the size of the directory.
 */

const profile = 'PROFILE';
type AreaLevel = 'D' | 'L' | 'A';
export const coverageKey = (category: string, level: AreaLevel, area: string): string =>
  `COVERAGE#${category}#${level}:${area}`;

/** The area keys a service is listed under, one per category and covered area. */
export function coverageKeysOf(service: Service): string[] {
  const areas: Array<[AreaLevel, string]> = [
    ...service.coverage.districts.map((d): [AreaLevel, string] => ['D', d]),
    ...service.coverage.lsoas.map((l): [AreaLevel, string] => ['L', l]),
    ...service.coverage.localAuthorities.map((a): [AreaLevel, string] => ['A', a]),
  ];
  return service.categories.flatMap((category) =>
    areas.map(([level, area]) => coverageKey(category, level, area)),
  );
}

export class DynamoDirectory implements Directory {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  private async item<T>(pk: string, sk: string): Promise<T | undefined> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: { pk, sk } }));
    return Item?.value as T | undefined;
  }

  practice(ods: string): Promise<Practice | undefined> {
    return this.item<Practice>(`PRACTICE#${ods}`, profile);
  }

  teamForPcn(pcn: string): Promise<LinkWorkerTeam | undefined> {
    return this.item<LinkWorkerTeam>(`PCN#${pcn}`, 'TEAM');
  }

  async servicesCovering(category: InterventionCategory, area: AreaKeys): Promise<ServiceCandidate[]> {
    const keys = [
      coverageKey(category, 'D', area.district),
      ...[...new Set([...(area.lsoa ? [area.lsoa] : []), ...(area.lsoas ?? [])])].map((lsoa) =>
        coverageKey(category, 'L', lsoa),
      ),
      ...(area.localAuthority ? [coverageKey(category, 'A', area.localAuthority)] : []),
    ];
    const pages = await Promise.all(keys.map((key) => this.listed(key)));
    // A service covering the patient at two levels (an LSOA and its district) is one candidate.
    const byService = new Map<string, ServiceCandidate>();
    for (const candidate of pages.flat()) byService.set(candidate.service.id, candidate);
    return [...byService.values()];
  }

  private async listed(pk: string): Promise<ServiceCandidate[]> {
    const candidates: ServiceCandidate[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': pk },
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) candidates.push(item.value as ServiceCandidate);
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return candidates;
  }

  async channelOf(kind: RecipientKind, id: string): Promise<RecipientChannel | undefined> {
    const recipient = await this.item<LinkWorkerTeam | Partner>(
      `${kind === 'team' ? 'TEAM' : 'PARTNER'}#${id}`,
      profile,
    );
    return recipient?.channel;
  }
}

/**
 * Every item a directory snapshot becomes. Loading is a set of puts, so loading twice changes nothing. Secrets in
 * the snapshot are not among them: they go to the secret store.
 */
export function directoryItems(
  snapshot: DirectorySnapshot,
): Array<{ pk: string; sk: string } & Record<string, unknown>> {
  const partners = new Map(snapshot.partners.map((p) => [p.id, p]));
  const items: Array<{ pk: string; sk: string } & Record<string, unknown>> = [
    ...snapshot.pcns.map((pcn) => ({ pk: `PCN#${pcn.code}`, sk: profile, value: pcn })),
    ...snapshot.practices.map((practice) => ({
      pk: `PRACTICE#${practice.ods}`,
      sk: profile,
      value: practice,
    })),
    ...snapshot.teams.map((team) => ({ pk: `TEAM#${team.id}`, sk: profile, value: team })),
    ...snapshot.teams.map((team) => ({ pk: `PCN#${team.pcn}`, sk: 'TEAM', value: team })),
    ...snapshot.partners.map((partner) => ({ pk: `PARTNER#${partner.id}`, sk: profile, value: partner })),
    ...snapshot.services.map((service) => ({ pk: `SERVICE#${service.id}`, sk: profile, value: service })),
  ];
  for (const service of snapshot.services) {
    const partner = partners.get(service.partnerId);
    if (!partner)
      throw new Error(
        `Service ${service.id} names partner ${service.partnerId}, which is not in the directory`,
      );
    // Listed under its partner, as the editor lists it (directory-editor.ts), so a later change of the partner (its
    // name, or retiring it) finds the services whose coverage entries carry it.
    items.push({ pk: `PARTNER#${partner.id}`, sk: `SERVICE#${service.id}`, serviceId: service.id });
    // Retired services keep their profile (history names them) but leave the index: they take no new referrals.
    if (service.status === 'retired' || partner.status === 'retired') continue;
    const candidate = candidateOf(service, partner);
    for (const pk of coverageKeysOf(service))
      items.push({ pk, sk: `SERVICE#${service.id}`, value: candidate });
  }
  return items;
}

export async function loadDirectory(
  client: DynamoDBDocumentClient,
  tableName: string,
  snapshot: DirectorySnapshot,
): Promise<number> {
  const items = directoryItems(snapshot);
  for (let i = 0; i < items.length; i += 25) {
    let pending: Record<string, unknown>[] | undefined = items
      .slice(i, i + 25)
      .map((Item) => ({ PutRequest: { Item } }));
    for (let attempt = 0; pending && pending.length > 0; attempt++) {
      if (attempt > 5) throw new Error('Directory load: DynamoDB kept items unprocessed after 5 retries');
      const result: BatchWriteCommandOutput = await client.send(
        new BatchWriteCommand({ RequestItems: { [tableName]: pending } }),
      );
      pending = result.UnprocessedItems?.[tableName];
      if (pending?.length) await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt));
    }
  }
  await markDirectoryChanged(client, tableName);
  return items.length;
}
