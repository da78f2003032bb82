import { caseloads } from '#reporting/domain/reports/caseloads.ts';
import type { FigureFamily } from '#reporting/domain/figures.ts';
import type { ReportName } from '#reporting/domain/report-shape.ts';
import { deprivation } from '#reporting/domain/reports/deprivation.ts';
import { funnel } from '#reporting/domain/reports/funnel.ts';
import { gaps } from '#reporting/domain/reports/gaps.ts';
import { outcomes } from '#reporting/domain/reports/outcomes.ts';
import { partners } from '#reporting/domain/reports/partners.ts';
import { surges } from '#reporting/domain/reports/surges.ts';
import type { ReportDefinition } from '#reporting/domain/reports/table.ts';
import { volumes } from '#reporting/domain/reports/volumes.ts';

/** Every report, by name: the one table the API, the CLI, the OpenAPI document and docs/reports.md read. */
export const reportDefinitions: { [R in ReportName]: ReportDefinition<FigureFamily> } = {
  volumes,
  surges,
  funnel,
  deprivation,
  gaps,
  partners,
  outcomes,
  caseloads,
};
