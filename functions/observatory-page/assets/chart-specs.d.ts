// Types of chart-specs.js for the TypeScript tests that import it (the browser reads the JavaScript as it is).
import type { ChartSpec } from './charts.js';

/** A report as the reports API answers it (shared/reporting/domain/report-shape.ts). */
export interface ReportAnswer {
  report: string;
  from: string;
  to: string;
  area?: string;
  suppressedBelow: number | null;
  columns: string[];
  rows: Array<Record<string, string | number>>;
}

export interface ChartDefinition {
  report: string;
  /** false: the report's figures carry no area, so it is always asked for all areas. */
  byArea?: boolean;
  title: string;
  about: string;
  /** What the chart says when there is nothing to draw, if not the usual. */
  empty?: string;
  /** The chart's spec (without its id; `title` only when it says better), and `line` to draw lines. */
  build(report: ReportAnswer): Omit<ChartSpec, 'id' | 'title'> & { title?: string; line?: boolean };
}

export const charts: ChartDefinition[];
export function isoDay(date: Date): string;
export function addDays(day: string, days: number): string;
