import type { APIGatewayProxyEvent } from 'aws-lambda';
import { UnprocessableError, ValidationError } from '#kernel/errors.ts';
import { safeKey } from '#kernel/validation.ts';
import { evaluationCsv, evaluationExtract } from '#reporting/application/evaluation-extract.ts';
import { SmallCellsError } from '#reporting/domain/k-anonymity.ts';
import { documentClient } from '#platform/clients.ts';
import { tableName } from '#platform/config.ts';
import { httpHandler } from '#platform/handlers.ts';
import { logger, metrics } from '#platform/observability.ts';
import { pseudonymKeyFrom } from '#platform/secrets.ts';
import type { PseudonymKey } from '#reporting/evaluation-ports.ts';
import { evaluationDeps } from './deps.ts';

/**
 * GET /evaluation/extract?from=<Monday>&to=<Sunday>[&k=N], for ops: the evaluation extract as CSV
 * (docs/evaluation.md). Only whole ISO weeks, and k only at or above the default 5 (400 otherwise). A range the k
 * check refuses is 422 naming the small cells. The route covers at most 13 weeks (API Gateway gives up after 29 s
 * and Lambda answers at most 6 MB); `npm run evaluation` makes longer ones.
 */

// The key's store is found on first use, as the directory admin's secret store is: a missing PSEUDONYM_KEY is then
// one request's 500 naming it, and the module still loads (its routes can be listed without a key).
let keyStore: PseudonymKey | undefined;
const deps = evaluationDeps({
  documentClient,
  tables: { referrals: tableName('referrals'), directory: tableName('directory') },
  pseudonymKey: { key: () => (keyStore ??= pseudonymKeyFrom()).key() },
});

export const maxRouteWeeks = 13;
/** Lambda's synchronous answer is at most 6 MB; what is larger is for the CLI. */
const maxCsvBytes = 5_000_000;

/** The query parameters, each given once: a repeated one is refused rather than one of its values picked. */
function parametersOf(event: APIGatewayProxyEvent): Record<string, string | undefined> {
  const repeated = Object.entries(event.multiValueQueryStringParameters ?? {}).filter(
    ([, values]) => (values?.length ?? 0) > 1,
  );
  if (repeated.length > 0)
    throw new ValidationError(
      repeated
        .slice(0, 10)
        .map(([name]) => ({ field: safeKey(name), rule: 'must be given once', kind: 'structure' })),
    );
  return event.queryStringParameters ?? {};
}

export const handler = httpHandler('evaluation', {
  getEvaluationExtract: async (event, _context, caller) => {
    let extract;
    try {
      extract = await evaluationExtract(deps, parametersOf(event), { maxWeeks: maxRouteWeeks });
    } catch (error) {
      // How many cells, never which people: the cells' values are in the answer, not in the logs.
      if (error instanceof SmallCellsError) {
        logger.info('Evaluation extract refused by the k check', { k: error.k, cells: error.cells.length });
        metrics.addMetric('EvaluationExtractsRefused', 'Count', 1);
      }
      throw error;
    }
    const csv = evaluationCsv(extract.rows);
    if (Buffer.byteLength(csv) > maxCsvBytes)
      throw new UnprocessableError(
        'to',
        `the extract is ${Math.round(Buffer.byteLength(csv) / 1e6)} MB, more than an answer may carry: use a shorter range, or npm run evaluation`,
      );
    // Who asked and for what range, and how much was given: counts only, never a pseudonym or a row.
    logger.info('Evaluation extract made', {
      by: caller?.subject,
      from: extract.from,
      to: extract.to,
      rows: extract.rows.length,
      people: extract.people,
      k: extract.k,
    });
    metrics.addMetric('EvaluationExtracts', 'Count', 1);
    return {
      statusCode: 200,
      headers: {
        'Content-Type': 'text/csv; charset=utf-8',
        'Content-Disposition': `attachment; filename="evaluation-${extract.from}-${extract.to}.csv"`,
      },
      body: csv,
    };
  },
});
