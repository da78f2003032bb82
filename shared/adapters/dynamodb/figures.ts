import { QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  familyDimensions,
  unknownValue,
  type Figure,
  type FigureCell,
  type FigureFamily,
} from '#reporting/domain/figures.ts';
import type { Figures } from '#reporting/ports.ts';
import { appliedUnlessConditionFails } from '#adapters/dynamodb/conditional.ts';

/**
 * The observatory's figures in the metrics table: ONE item per cell, i.e. per family, day and combination of the
 * family's dimensions.
 *
 *   metric = figure#<family>#<YYYY-MM>                 a family's month: a report over a range is one Query a month
 *   day    = <YYYY-MM-DD>|<dim>=<value>|...            the day, then every dimension in the family's order
 *   count, dimensions, counted                         the count, the dimensions as a map (read back without parsing
 *                                                      the key), the unit ids counted in the cell
 *
 * Exact under duplicates and crash-and-retry, as the metric counters are (metric-counters.ts): adding a unit to a cell
 * is ONE conditional UpdateItem (`ADD count :one, counted :unit` on condition `NOT contains(counted, :unit)`), so a
 * unit is in a cell's count exactly when it is in its set, and a repeat is refused by the condition, adding nothing.
 * A unit's cells are separate items written in parallel: a crash between them leaves some cells counted and the
 * others not, and the retry (same figures, same unit) adds only the missing ones.
 *
 * Why one item per cell is enough (no shards, unlike the metric counters): a cell's `counted` set holds only the
 * units of ONE day in ONE combination of dimensions (one practice, one category, one decile...). An item holds at most
 * 400 KB; a unit id is at most ~60 bytes (`<uuid>#<category>`, an offer id), so a cell holds ~6,000 units in a day:
 * the busiest cell (one practice's referrals in one age band on one day, one partner's answers on one day) is tens.
 * Should a family ever need more, shard its sort key (`...#<shard>`) and sum on read as dayCount does.
 *
 * A value is escaped in the key (`%`, `|`, `=`), so no value can make two cells one; the map carries it unescaped.
 */
export class DynamoFigures implements Figures {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    /** Items per Query page: DynamoDB's 1 MB unless told (the contract suite pages with a few). */
    private readonly pageSize?: number,
  ) {}

  async recordOnce(figures: Figure[], unitId: string): Promise<void> {
    // The same cell twice in one call is one cell: one write (a second would only be refused by the condition).
    const cells = new Map(figures.map((figure) => [keyOf(figure), normalised(figure)]));
    await Promise.all(
      [...cells.entries()].map(([, cell]) =>
        appliedUnlessConditionFails(() =>
          this.client.send(
            new UpdateCommand({
              TableName: this.tableName,
              Key: { metric: partitionOf(cell.family, cell.day), day: sortKeyOf(cell) },
              UpdateExpression: 'ADD #count :one, #counted :unit SET #dimensions = :dimensions',
              ConditionExpression: 'attribute_not_exists(#counted) OR NOT contains(#counted, :unitId)',
              ExpressionAttributeNames: {
                '#count': 'count',
                '#counted': 'counted',
                '#dimensions': 'dimensions',
              },
              ExpressionAttributeValues: {
                ':one': 1,
                ':unit': new Set([unitId]),
                ':unitId': unitId,
                ':dimensions': cell.dimensions,
              },
            }),
          ),
        ),
      ),
    );
  }

  async cells<F extends FigureFamily>(family: F, from: string, to: string): Promise<FigureCell<F>[]> {
    checkDay(from);
    checkDay(to);
    if (from > to) return [];
    const months = monthsBetween(from.slice(0, 7), to.slice(0, 7));
    // One Query per month, in parallel; each reads only the days asked for (`|` sorts after every day's digits, so
    // `<to>}` is past every key of `to` and before the next day's).
    const pages = await Promise.all(months.map((month) => this.month(family, month, from, `${to}}`)));
    return pages.flat();
  }

  private async month<F extends FigureFamily>(
    family: F,
    month: string,
    from: string,
    upTo: string,
  ): Promise<FigureCell<F>[]> {
    const cells: FigureCell<F>[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'metric = :metric AND #day BETWEEN :from AND :to',
          // Never the counted set: it is the bulk of the item, and a reader needs the count only.
          ProjectionExpression: '#day, #count, #dimensions',
          ExpressionAttributeNames: { '#day': 'day', '#count': 'count', '#dimensions': 'dimensions' },
          ExpressionAttributeValues: { ':metric': `figure#${family}#${month}`, ':from': from, ':to': upTo },
          ExclusiveStartKey: startKey,
          Limit: this.pageSize,
        }),
      );
      for (const item of page.Items ?? [])
        cells.push({
          family,
          day: String(item.day).slice(0, 10),
          dimensions: inFamilyOrder(family, item.dimensions as Record<string, string>),
          count: Number(item.count ?? 0),
        });
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return cells;
  }
}

const dayPattern = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;

function checkDay(day: string): void {
  if (!dayPattern.test(day)) throw new RangeError(`not a day (YYYY-MM-DD): ${day}`);
}

/** Every month from `first` to `last` (`YYYY-MM`), both included. */
export function monthsBetween(first: string, last: string): string[] {
  const months: string[] = [];
  let [year, month] = first.split('-').map(Number) as [number, number];
  for (let current = first; current <= last;) {
    months.push(current);
    month += 1;
    if (month > 12) [year, month] = [year + 1, 1];
    current = `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}`;
  }
  return months;
}

/** The figure with exactly its family's dimensions, in order: one left out is `unknown`, one not of the family dropped. */
function normalised(figure: Figure): Figure {
  checkDay(figure.day);
  const given = figure.dimensions as Record<string, string | undefined>;
  const names: readonly string[] = familyDimensions[figure.family];
  return {
    family: figure.family,
    day: figure.day,
    dimensions: Object.fromEntries(names.map((name) => [name, given[name] ?? unknownValue])),
  } as Figure;
}

/**
 * A cell's dimensions in its family's order, as they were written. DynamoDB keeps a map's keys in no order (DynamoDB
 * Local hands them back shuffled; dynalite happened to keep them), and a reader that serialises a cell (a report's
 * columns, a comparison by JSON) must see one order only.
 */
function inFamilyOrder<F extends FigureFamily>(
  family: F,
  stored: Record<string, string>,
): FigureCell<F>['dimensions'] {
  const names: readonly string[] = familyDimensions[family];
  return Object.fromEntries(
    names.map((name) => [name, stored[name] ?? unknownValue]),
  ) as FigureCell<F>['dimensions'];
}

const partitionOf = (family: FigureFamily, day: string): string => `figure#${family}#${day.slice(0, 7)}`;

const escaped = (value: string): string => value.replace(/[%|=]/g, (c) => `%${c.charCodeAt(0).toString(16)}`);

function sortKeyOf(figure: Figure): string {
  const dimensions = figure.dimensions as Record<string, string>;
  const names: readonly string[] = familyDimensions[figure.family];
  return [figure.day, ...names.map((name) => `${name}=${escaped(dimensions[name] ?? unknownValue)}`)].join(
    '|',
  );
}

function keyOf(figure: Figure): string {
  const cell = normalised(figure);
  return `${partitionOf(cell.family, cell.day)} ${sortKeyOf(cell)}`;
}
