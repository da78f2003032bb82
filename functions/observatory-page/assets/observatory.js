// The observatory page's script: sign in with a commissioner's or an operator's token, ask the reports API for each
// report over the chosen days and area, and draw each as a chart (charts.js) with its figures as a table beneath.
// It holds no data of its own; the token stays in this tab's sessionStorage and goes only to the reports API. Text
// from the API reaches the page as text (tables) or through charts.js, which escapes it.

import { barChart, hasData, isSuppressed, lineChart } from './charts.js';
import { addDays, charts, isoDay } from './chart-specs.js';

const tokenKey = 'observatory-token';
const roles = ['commissioner', 'ops'];

/**
 * Where the reports API is. The `reports-api` meta tag when a static copy of the page names it; else the folder the
 * page is served from: locally the page is `/observatory`, so `/`; in AWS `<ApiUrl>observatory`, e.g.
 * `/v1/observatory`, so `/v1/` (the stage). Every call is made relative to it.
 */
const configuredBase = document.querySelector('meta[name="reports-api"]')?.getAttribute('content') ?? '';
const apiBase =
  configuredBase.trim() === ''
    ? window.location.pathname.replace(/observatory\/?$/, '')
    : configuredBase.replace(/\/?$/, '/');

const $ = (id) => document.getElementById(id);

let session; // { token, role }
let generation = 0; // the latest showing asked for: answers to an earlier one are not drawn

// ------------------------------------------------------------------------------------------------------------
// Signing in

/** The token's claims, read for display and to check the role; the API verifies the token on every call. */
function claimsOf(token) {
  const payload = token.split('.')[1];
  if (!payload)
    throw new Error('That is not an access token (it should have three parts separated by dots).');
  return JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/')));
}

function signIn(token) {
  const role = claimsOf(token).role;
  if (!roles.includes(role))
    throw new Error(`This page is for commissioners and operators; the token's role is ${role}.`);
  session = { token, role };
  sessionStorage.setItem(tokenKey, token);
  $('who').textContent = `Signed in as ${role === 'ops' ? 'an operator' : 'a commissioner'}`;
  $('sign-out').hidden = false;
  $('sign-in').hidden = true;
  $('observatory').hidden = false;
  return showFigures();
}

function signOut() {
  session = undefined;
  generation++;
  sessionStorage.removeItem(tokenKey);
  $('who').textContent = '';
  $('sign-out').hidden = true;
  $('sign-in').hidden = false;
  $('observatory').hidden = true;
  $('charts').replaceChildren();
}

// ------------------------------------------------------------------------------------------------------------
// Calling the reports API

async function report(name, query) {
  const response = await fetch(`${apiBase}reports/${encodeURIComponent(name)}?${query}`, {
    headers: { Authorization: `Bearer ${session.token}`, Accept: 'application/json' },
  });
  const text = await response.text();
  let data;
  try {
    data = text === '' ? undefined : JSON.parse(text);
  } catch {
    data = undefined;
  }
  if (response.status === 401) {
    signOut();
    throw new Error('The token was refused (expired or not valid): sign in again.');
  }
  if (!response.ok) throw new Error(problemOf(response.status, data));
  return data;
}

/** An OperationOutcome's diagnostics, one line per issue; else the status. */
function problemOf(status, data) {
  const issues = data && Array.isArray(data.issue) ? data.issue : [];
  const lines = issues.map((issue) => issue.diagnostics || issue.details?.text).filter(Boolean);
  return lines.length > 0 ? lines.join('; ') : `The service answered ${status}.`;
}

// ------------------------------------------------------------------------------------------------------------
// Drawing

function filters() {
  const query = new URLSearchParams({ from: $('from').value, to: $('to').value, format: 'json' });
  const area = $('area').value.trim();
  if (area !== '') query.set('area', area);
  return query;
}

/** One chart's card: heading, what it shows, the chart, and its figures as a table. */
function card(chart) {
  const figure = document.createElement('figure');
  figure.id = `chart-${chart.report}`;
  figure.className = 'chart-card';
  figure.dataset.report = chart.report;
  const caption = document.createElement('figcaption');
  const heading = document.createElement('h3');
  heading.textContent = chart.title;
  const about = document.createElement('p');
  about.textContent = chart.about;
  const allAreas = document.createElement('p');
  allAreas.className = 'all-areas note';
  allAreas.textContent = 'Not recorded by area: these are all areas’ figures.';
  allAreas.hidden = true;
  caption.append(heading, about, allAreas);
  const area = document.createElement('div');
  area.className = 'chart-area';
  const details = document.createElement('details');
  const summary = document.createElement('summary');
  summary.textContent = 'The figures as a table';
  const table = document.createElement('div');
  table.className = 'chart-table';
  details.append(summary, table);
  figure.append(caption, area, details);
  return figure;
}

/** The SVG markup from charts.js, parsed as XML (scripts in it never run) and adopted into the page. */
function svgNode(markup) {
  const parsed = new window.DOMParser().parseFromString(markup, 'image/svg+xml');
  if (parsed.querySelector('parsererror')) throw new Error('The chart could not be drawn.');
  return document.importNode(parsed.documentElement, true);
}

function tableOf(data) {
  const table = document.createElement('table');
  const head = table.createTHead().insertRow();
  for (const column of data.columns) {
    const th = document.createElement('th');
    th.scope = 'col';
    th.textContent = column;
    head.append(th);
  }
  const body = table.createTBody();
  for (const row of data.rows) {
    const tr = body.insertRow();
    for (const column of data.columns) {
      const td = tr.insertCell();
      td.textContent = String(row[column] ?? '');
      if (isSuppressed(row[column])) td.className = 'suppressed';
    }
  }
  return table;
}

function draw(figure, chart, data) {
  const area = figure.querySelector('.chart-area');
  // Each chart's own id, title and description, unless its builder says better (the IMD edition, say).
  const spec = { id: chart.report, title: chart.title, description: chart.about, ...chart.build(data) };
  if (!hasData(spec)) {
    const empty = document.createElement('p');
    empty.className = 'empty';
    empty.textContent = chart.empty ?? 'No figures for these days and area.';
    area.replaceChildren(empty);
    figure.dataset.state = 'empty';
  } else {
    area.replaceChildren(svgNode(spec.line ? lineChart(spec) : barChart(spec)));
    figure.dataset.state = 'drawn';
  }
  figure.querySelector('.chart-table').replaceChildren(tableOf(data));
}

function failed(figure, error) {
  const problem = document.createElement('p');
  problem.className = 'error';
  problem.textContent = error.message;
  figure.querySelector('.chart-area').replaceChildren(problem);
  figure.querySelector('.chart-table').replaceChildren();
  figure.dataset.state = 'error';
}

/** Areas seen in the answers, offered in the area filter. */
function offerAreas(answers) {
  const seen = new Set([...$('areas').options].map((option) => option.value));
  for (const data of answers)
    for (const row of data?.rows ?? [])
      if (typeof row.area === 'string' && row.area !== 'unknown') seen.add(row.area);
  $('areas').replaceChildren(...[...seen].sort().map((area) => new Option(area, area)));
}

function showSuppression(answers) {
  const threshold = answers.map((data) => data?.suppressedBelow).find((value) => typeof value === 'number');
  const note = $('suppression-note');
  note.hidden = threshold === undefined;
  if (threshold === undefined) return;
  const any = answers.some((data) => data?.rows.some((row) => Object.values(row).some(isSuppressed)));
  note.textContent =
    `Counts from 1 to ${threshold - 1} are shown as “<${threshold}” and never exactly, so that no one can be ` +
    `singled out. In the charts they are drawn hatched with a dashed edge, at the height of ${threshold - 1} ` +
    `(the most they can be); totals that include them are not known exactly, and a median worked from ` +
    'them is not shown.' +
    (any ? '' : ' None of the figures shown here is that small.');
}

async function showFigures() {
  const mine = ++generation;
  const query = filters();
  const from = query.get('from');
  const to = query.get('to');
  if (from > to) throw new Error('“From” must be on or before “To”.');
  const area = query.get('area');
  $('range').textContent = `${from} to ${to}, ${area ? `area ${area.toUpperCase()}` : 'all areas'}.`;
  $('message').textContent = 'Loading…';
  $('message').className = '';
  const container = $('charts');
  if (container.children.length !== charts.length) container.replaceChildren(...charts.map(card));
  for (const figure of container.children) figure.dataset.state = 'loading';
  const answers = await Promise.all(
    charts.map(async (chart) => {
      const figure = $(`chart-${chart.report}`);
      const asked = new URLSearchParams(query);
      if (chart.byArea === false) asked.delete('area');
      figure.dataset.query = asked.toString();
      figure.querySelector('.all-areas').hidden = !(area && chart.byArea === false);
      try {
        const data = await report(chart.report, asked);
        if (mine === generation) draw(figure, chart, data);
        return data;
      } catch (error) {
        if (mine === generation) failed(figure, error);
        return undefined;
      }
    }),
  );
  // Filters changed while these were on their way: the later showing draws and explains its own.
  if (mine !== generation) return;
  offerAreas(answers);
  showSuppression(answers.filter(Boolean));
  const failures = answers.filter((data) => data === undefined).length;
  $('message').textContent =
    failures === 0 ? '' : `${failures} of ${charts.length} reports could not be read.`;
  $('message').className = failures === 0 ? '' : 'error';
}

// ------------------------------------------------------------------------------------------------------------
// Wiring

function show(error) {
  $('message').textContent = error.message;
  $('message').className = 'error';
}

function start() {
  const today = isoDay(new Date());
  $('to').value = today;
  $('from').value = addDays(today, -29);
  $('sign-in-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const token = $('token').value.trim();
    $('token').value = '';
    try {
      signIn(token).catch(show);
    } catch (error) {
      show(error);
    }
  });
  $('filters').addEventListener('submit', (event) => {
    event.preventDefault();
    showFigures().catch(show);
  });
  $('sign-out').addEventListener('click', signOut);
  const saved = sessionStorage.getItem(tokenKey);
  if (saved) {
    try {
      signIn(saved).catch(show);
    } catch {
      signOut();
    }
  }
}

start();
