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
  WebhookChannel,
} from '#directory/domain/directory.ts';
import type { ServiceCandidate } from '#matching/domain/routing.ts';
import type { Directory } from '#directory/ports.ts';

/**
 * Directory table, single-table design. Every lookup the flow makes is one GetItem or one Query:
 *   PRACTICE#<ods>            PROFILE        the practice (and its PCN and area)
 *   PCN#<code>                TEAM           the PCN's link-worker team
 *   TEAM#<id> | PARTNER#<id>  PROFILE        a recipient and its delivery channel
 *   SERVICE#<id>              PROFILE        a VCSE service
 *   COVERAGE#<category>#<area> SERVICE#<id>  coverage index: which services offer a need in an area
 */

const profile = 'PROFILE';
const coverageKey = (category: string, area: string): string => `COVERAGE#${category}#${area}`;

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

  async servicesCovering(category: InterventionCategory, area: string): Promise<ServiceCandidate[]> {
    const candidates: ServiceCandidate[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': coverageKey(category, area) },
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) candidates.push(item.value as ServiceCandidate);
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return candidates;
  }

  async channelOf(kind: 'team' | 'partner', id: string): Promise<WebhookChannel | undefined> {
    const recipient = await this.item<LinkWorkerTeam | Partner>(
      `${kind === 'team' ? 'TEAM' : 'PARTNER'}#${id}`,
      profile,
    );
    return recipient?.channel;
  }
}

/** Every item a directory snapshot becomes. Loading is a set of puts, so loading twice changes nothing. */
export function directoryItems(
  snapshot: DirectorySnapshot,
): Array<{ pk: string; sk: string; value: unknown }> {
  const partners = new Map(snapshot.partners.map((p) => [p.id, p]));
  const items: Array<{ pk: string; sk: string; value: unknown }> = [
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
    const candidate: ServiceCandidate = { service, partner: { id: partner.id, name: partner.name } };
    for (const category of service.categories) {
      for (const area of service.areas) {
        items.push({ pk: coverageKey(category, area), sk: `SERVICE#${service.id}`, value: candidate });
      }
    }
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
  return items.length;
}
