import { describe, expect, it } from 'vitest';
import { formatFromAccept, reportResponse } from '#http/report-response.ts';
import type { Report } from '#reporting/domain/report-shape.ts';

// How a report is answered: the format Accept asks for, and the CSV answer's headers.

describe('formatFromAccept', () => {
  it.each([
    [undefined, undefined],
    ['*/*', undefined],
    ['text/html', undefined],
    ['application/json', 'json'],
    ['text/csv', 'csv'],
    ['Text/CSV; charset=utf-8', 'csv'],
    ['text/csv, application/json', 'csv'],
    ['application/json, text/csv', 'json'],
    ['application/json;q=0.5, text/csv', 'csv'],
    ['text/csv;q=0, application/json', 'json'],
    ['text/csv;q=0', undefined],
    ['text/csv;q=abc', undefined],
  ] as const)('%s -> %s', (accept, format) => {
    expect(formatFromAccept(accept)).toBe(format);
  });
});

describe('reportResponse', () => {
  const report: Report = {
    report: 'funnel',
    from: '2026-11-01',
    to: '2026-11-30',
    area: 'LS6',
    suppressedBelow: 5,
    columns: ['stage', 'reason', 'referrals'],
    rows: [{ stage: 'referred', reason: '-', referrals: '<5' }],
  };

  it('CSV: the table, its file name and the threshold beside it', () => {
    const answer = reportResponse(report, 'csv');
    expect(answer.statusCode).toBe(200);
    expect(answer.headers).toEqual({
      'Content-Type': 'text/csv; charset=utf-8; header=present',
      'Content-Disposition': 'attachment; filename="funnel-2026-11-01-to-2026-11-30-LS6.csv"',
      'X-Suppressed-Below': '5',
    });
    expect(answer.body).toBe('stage,reason,referrals\r\nreferred,-,<5\r\n');
  });

  it('JSON: the report as it is', () => {
    const answer = reportResponse({ ...report, suppressedBelow: null }, 'json');
    expect(answer.headers?.['Content-Type']).toMatch(/^application\/json/);
    expect(JSON.parse(answer.body)).toEqual({ ...report, suppressedBelow: null });
  });
});
