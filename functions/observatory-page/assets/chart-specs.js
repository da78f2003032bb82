// Which report each of the observatory's charts draws, and how the report's rows become the chart's spec for
// charts.js: pure, no DOM, so test/unit/observatory-charts.test.ts checks the specs made from sample reports.

import { isSuppressed, pivot } from './charts.js';

// ------------------------------------------------------------------------------------------------------------
// Days

const dayMs = 86_400_000;
export const isoDay = (date) => date.toISOString().slice(0, 10);
export const addDays = (day, days) => isoDay(new Date(Date.parse(`${day}T00:00:00Z`) + days * dayMs));
const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/** `2026-12-02` as `2 Dec`. */
const shortDay = (day) => `${Number(day.slice(8, 10))} ${months[Number(day.slice(5, 7)) - 1]}`;

function daysBetween(from, to) {
  const days = [];
  for (let day = from; day <= to && days.length < 400; day = addDays(day, 1)) days.push(day);
  return days;
}

// ------------------------------------------------------------------------------------------------------------
// The charts: which report each draws, and how its rows become a chart

const stageLabels = {
  referred: 'referred',
  received: 'received by link worker',
  contacted: 'contacted',
  started: 'intervention started',
  closed: 'closed',
  declined: 'declined',
  cancelled: 'cancelled',
};

/** A count as a number to compare by: a suppressed one as 1, the least it can be. */
const numberOf = (value) => (isSuppressed(value) ? 1 : Number(value) || 0);

export const charts = [
  {
    report: 'volumes',
    title: 'Referrals over time by category',
    about:
      'Needs referred each day (a referral with two needs counts in both), stacked by intervention category.',
    build(report) {
      const days = daysBetween(report.from, report.to);
      const { series } = pivot(report.rows, {
        category: 'day',
        series: 'category',
        value: 'needs',
        categories: days,
      });
      const spec = {
        categories: days.map(shortDay),
        series,
        stacked: true,
        valueLabel: 'needs referred',
        categoryLabel: 'day received',
      };
      // Bars while each day can be told apart; lines over longer ranges.
      return { ...spec, line: days.length > 62 };
    },
  },
  {
    report: 'funnel',
    title: 'The funnel',
    about:
      'Referrals reaching each stage on days in the range; declines and closures split by their coded reason.',
    build(report) {
      const stages = Object.keys(stageLabels).filter(
        (stage) => report.rows.some((row) => row.stage === stage) || stage !== 'cancelled',
      );
      const { series } = pivot(report.rows, {
        category: 'stage',
        series: (row) => (row.reason === '-' ? 'reached the stage' : row.reason),
        value: 'referrals',
        categories: stages,
      });
      return {
        categories: stages.map((stage) => stageLabels[stage]),
        series,
        stacked: true,
        horizontal: true,
        valueLabel: 'referrals',
      };
    },
  },
  {
    report: 'deprivation',
    title: 'Take-up and unmet need by deprivation',
    about:
      'Referred, taken up (received by the link worker), declined and unmet needs by IMD decile of the patient’s ' +
      'neighbourhood: 1 is the most deprived tenth of England.',
    build(report) {
      const edition = mainEdition(report.rows);
      const rows = report.rows.filter((row) => row.edition === edition);
      const deciles = rows.map((row) => String(row.decile));
      const measures = [
        ['referred', 'referred'],
        ['takenUp', 'taken up'],
        ['declined', 'declined'],
        ['unmetNeeds', 'unmet needs'],
      ];
      return {
        title: `${this.title} (IMD ${edition})`,
        categories: deciles,
        series: measures.map(([column, name]) => ({ name, values: rows.map((row) => row[column]) })),
        valueLabel: 'referrals (needs for unmet)',
        categoryLabel: `IMD ${edition} decile (1 most deprived)`,
      };
    },
  },
  {
    report: 'gaps',
    title: 'Gaps in provision by area',
    about:
      'Needs nothing in the directory fitted, by the postcode district they arose in and intervention category.',
    build(report) {
      const { categories, series } = pivot(report.rows, {
        category: 'area',
        series: 'category',
        value: 'unmetNeeds',
      });
      return { categories, series, stacked: true, horizontal: true, valueLabel: 'unmet needs' };
    },
  },
  {
    report: 'partners',
    // A partner's answers are not recorded by area (the API refuses an area filter here): always all areas.
    byArea: false,
    title: 'Partners: answers and response times',
    about:
      'Each partner’s offers accepted, declined and left to expire, with the response-time band its median answer ' +
      'came within.',
    build(report) {
      const categories = report.rows.map((row) => String(row.partner));
      const measures = [
        ['accepted', 'accepted'],
        ['declined', 'declined'],
        ['expired', 'expired'],
      ];
      return {
        categories,
        series: measures.map(([column, name]) => ({ name, values: report.rows.map((row) => row[column]) })),
        stacked: true,
        horizontal: true,
        valueLabel: 'offers',
        annotations: report.rows.map((row) => medianText(row.medianResponseBand)),
      };
    },
  },
  {
    report: 'outcomes',
    title: 'Outcomes at follow-up',
    about:
      'Follow-up measure sets against their baseline, by measure: improved, the same or worse on the measure’s own ' +
      'scale (for anxiety and loneliness, lower is better).',
    build(report) {
      const rows = report.rows.filter((row) => row.distribution === 'change');
      const { categories, series } = pivot(rows, {
        category: 'measure',
        series: 'value',
        value: 'sets',
        seriesOrder: ['improved', 'same', 'worse'],
      });
      return { categories, series, stacked: true, horizontal: true, valueLabel: 'follow-up sets' };
    },
  },
  {
    report: 'surges',
    title: 'Surges',
    empty: 'No surge was found in these days and area.',
    about:
      'Days a category in an area had far more needs referred than its baseline (the same weekday over the 8 weeks ' +
      'before) allows: the needs that day against those expected.',
    build(report) {
      return {
        categories: report.rows.map((row) => `${row.category} in ${row.area}, ${shortDay(String(row.day))}`),
        series: [
          { name: 'needs that day', values: report.rows.map((row) => row.observed) },
          { name: 'expected', values: report.rows.map((row) => row.expected) },
        ],
        horizontal: true,
        valueLabel: 'needs',
        // A commissioner's threshold is hidden when the expected count is (it would tell it): say so in words.
        annotations: report.rows.map((row) =>
          row.threshold === 'suppressed' ? 'threshold not shown' : `a surge from ${row.threshold}`,
        ),
      };
    },
  },
];

/** A partner's median response band in words: `within-24h` as `median within 24 h`. */
function medianText(band) {
  if (band === '-' || band === undefined) return 'no answers';
  if (band === 'suppressed') return 'median not shown';
  const within = /^within-(\d+)h$/.exec(band);
  if (within) return `median within ${within[1]} h`;
  return band === 'over-336h' ? 'median over 2 weeks' : `median ${band}`;
}

/** The IMD edition with the most referrals in the range (a suppressed count as 1): the one charted. */
function mainEdition(rows) {
  const totals = new Map();
  for (const row of rows)
    if (row.edition !== 'unknown')
      totals.set(row.edition, (totals.get(row.edition) ?? 0) + numberOf(row.referred));
  const [best] = [...totals.entries()].sort((a, b) => b[1] - a[1] || String(b[0]).localeCompare(a[0]));
  return best ? best[0] : 'unknown';
}
