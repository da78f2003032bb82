// Types of charts.js for the TypeScript tests that import it (the browser reads the JavaScript as it is).

export type ChartValue = number | string | null | undefined;

export interface ChartSeries {
  name: string;
  values: ChartValue[];
}

export interface ChartSpec {
  id: string;
  title: string;
  description?: string;
  categories: string[];
  series: ChartSeries[];
  stacked?: boolean;
  horizontal?: boolean;
  valueLabel?: string;
  categoryLabel?: string;
  suppressedAs?: number;
  /** Lying down: a text per category, written after its bar. */
  annotations?: Array<string | undefined>;
  width?: number;
  height?: number;
}

export const palette: string[];
export function isSuppressed(value: unknown): value is string;
export function drawnValue(value: ChartValue, suppressedAs: number): number;
export function escapeXml(text: unknown): string;
export function formatNumber(value: ChartValue): string;
export function niceScale(max: number, count?: number): { max: number; step: number; ticks: number[] };
export function barChart(spec: ChartSpec): string;
export function lineChart(spec: ChartSpec): string;
export function hasData(spec: ChartSpec): boolean;

type Column<Row> = string | ((row: Row) => unknown);
export function pivot<Row extends Record<string, unknown>>(
  rows: Row[],
  options: {
    category: Column<Row>;
    series: Column<Row>;
    value: Column<Row>;
    categories?: string[];
    seriesOrder?: string[];
  },
): { categories: string[]; series: ChartSeries[] };
