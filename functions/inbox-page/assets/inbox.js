// The inbox page's script: sign in with a token, list the worklist, open one referral, act on it. It calls the same
// API as any client (docs/api.md, "Worklists"); the token stays in this tab's sessionStorage and goes only to this
// origin. Text from the API is always set as textContent, never as HTML.

const tokenKey = 'inbox-token';

/**
 * Where the API is: the folder the page is served from. Locally the page is `/inbox`, so `/`; in AWS it is
 * `<ApiUrl>inbox`, e.g. `/v1/inbox`, so `/v1/` (the stage). Every call is made relative to it.
 */
const apiBase = window.location.pathname.replace(/inbox\/?$/, '');

/** What each role works on: the team's referrals, or the partner's offers. */
const views = {
  'link-worker': { list: '/team/referrals', one: (id) => `/team/referrals/${encodeURIComponent(id)}` },
  partner: { list: '/partner/offers', one: (id) => `/partner/offers/${encodeURIComponent(id)}` },
};

/** The states a worklist can be filtered by, as the API names them (empty: all). */
const statusFilters = {
  'link-worker': ['', 'routed', 'accepted', 'contacted', 'in-progress', 'escalated', 'declined', 'closed'],
  partner: [
    '',
    'offered',
    'accepted',
    'contacted',
    'in-progress',
    'declined',
    'expired',
    'withdrawn',
    'closed',
  ],
};

const declineReasons = [
  ['no-capacity', 'No capacity'],
  ['not-eligible', 'Not eligible'],
  ['patient-unreachable', 'Patient unreachable'],
  ['declined-by-patient', 'Declined by the patient'],
  ['other', 'Other (say why)'],
];

const $ = (id) => document.getElementById(id);

let session; // { token, role, organisation }
let cursor; // the next page of the worklist, if any

// ------------------------------------------------------------------------------------------------------------
// Signing in

/** The token's claims, read for display and to pick the view; the API verifies the token on every call. */
function claimsOf(token) {
  const payload = token.split('.')[1];
  if (!payload)
    throw new Error('That is not an access token (it should have three parts separated by dots).');
  const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/'));
  return JSON.parse(json);
}

function signIn(token) {
  const claims = claimsOf(token);
  const role = claims.role;
  if (!views[role])
    throw new Error(`This page is for link workers and partners; the token's role is ${role}.`);
  const organisation = role === 'partner' ? claims.partner : claims.team;
  session = { token, role, organisation };
  sessionStorage.setItem(tokenKey, token);
  $('who').textContent = `Signed in as ${role === 'partner' ? 'partner' : 'link worker'} for ${organisation}`;
  $('sign-out').hidden = false;
  $('sign-in').hidden = true;
  const filter = $('status-filter');
  filter.replaceChildren(
    ...statusFilters[role].map((status) => new Option(status === '' ? 'everything' : status, status)),
  );
  return showWorklist();
}

function signOut() {
  session = undefined;
  sessionStorage.removeItem(tokenKey);
  $('who').textContent = '';
  $('sign-out').hidden = true;
  $('worklist').hidden = true;
  $('detail').hidden = true;
  $('sign-in').hidden = false;
  say('Signed out.');
}

// ------------------------------------------------------------------------------------------------------------
// Talking to the API

async function api(method, path, body) {
  const response = await fetch(`${apiBase}${path.replace(/^\//, '')}`, {
    method,
    headers: {
      Authorization: `Bearer ${session.token}`,
      Accept: 'application/json',
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  const data = text === '' ? undefined : JSON.parse(text);
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

function say(text, isError = false) {
  $('message').textContent = text;
  $('message').className = isError ? 'error' : '';
}

// ------------------------------------------------------------------------------------------------------------
// The worklist

const idOf = (item) => item.offerId ?? item.referralId;
const stateOf = (item) => item.state ?? item.status;
const needOf = (item) => item.category ?? (item.needs ?? []).join(', ');
const receivedOf = (item) => item.offeredAt ?? item.receivedAt ?? '';
const deadlineOf = (item) => item.deadline ?? item.respondBy ?? '';

async function showWorklist(append = false) {
  if (!append) say('');
  $('detail').hidden = true;
  $('worklist').hidden = false;
  const status = $('status-filter').value;
  const query = new URLSearchParams();
  if (status) query.set('status', status);
  if (append && cursor) query.set('cursor', cursor);
  const page = await api('GET', `${views[session.role].list}${query.size > 0 ? `?${query}` : ''}`);
  const items = page.items ?? [];
  cursor = page.cursor ?? page.nextCursor;
  const rows = items.map((item) => {
    const row = document.createElement('tr');
    row.dataset.id = idOf(item);
    for (const value of [day(receivedOf(item)), needOf(item), stateOf(item), day(deadlineOf(item))]) {
      const cell = document.createElement('td');
      cell.textContent = value;
      row.append(cell);
    }
    const open = document.createElement('button');
    open.type = 'button';
    open.textContent = 'Open';
    open.addEventListener('click', () => run(() => showOne(idOf(item))));
    const cell = document.createElement('td');
    cell.append(open);
    row.append(cell);
    return row;
  });
  if (append) $('worklist-rows').append(...rows);
  else $('worklist-rows').replaceChildren(...rows);
  $('worklist-empty').hidden = $('worklist-rows').children.length > 0;
  $('more').hidden = !cursor;
}

const day = (iso) => (typeof iso === 'string' ? iso.slice(0, 10) : '');

// ------------------------------------------------------------------------------------------------------------
// One referral

async function showOne(id) {
  const item = await api('GET', views[session.role].one(id));
  $('worklist').hidden = true;
  $('detail').hidden = false;
  $('detail').dataset.id = id;
  $('detail-title').textContent = `Referral ${item.referralId ?? id}`;
  const fields = $('detail-fields');
  fields.replaceChildren();
  // The case first (what state it is in, what is asked, by when), then what the referral says, then what was done.
  const summary =
    session.role === 'partner'
      ? {
          state: item.state,
          need: item.category,
          service: item.serviceName,
          offered: item.offeredAt,
          'respond by': item.deadline,
          version: item.version,
        }
      : { status: item.status, version: item.version };
  for (const [label, value] of Object.entries(summary)) addField(fields, label, value);
  const details = session.role === 'partner' ? item.referral : item.details;
  // The delivery's own bookkeeping (its id, recipient and version) says nothing a person acts on.
  const {
    deliveryId: _delivery,
    recipient: _recipient,
    version: _version,
    referralId: _id,
    ...said
  } = details ?? {};
  for (const [label, value] of Object.entries(flatten(said))) addField(fields, label, value);
  for (const [label, value] of Object.entries(flatten(item.caseWork ?? {}, 'done')))
    addField(fields, label, value);
  for (const offer of item.offers ?? []) {
    addField(fields, `partner ${offer.partnerName} (${offer.category})`, offer.state);
  }
  for (const need of item.returnedNeeds ?? []) addField(fields, `returned: ${need.category}`, need.reason);
  renderActions(id, item);
  await renderOutcomes(id);
}

// ------------------------------------------------------------------------------------------------------------
// Outcome measures (link workers): the sets recorded, the change from baseline, and a form for a new set

const ons4Items = [
  ['lifeSatisfaction', 'Life satisfaction'],
  ['worthwhile', 'Things in life are worthwhile'],
  ['happiness', 'Happiness yesterday'],
  ['anxiety', 'Anxiety yesterday'],
];
const ucla3Items = [
  ['lackCompanionship', 'Lack companionship'],
  ['leftOut', 'Feel left out'],
  ['isolated', 'Feel isolated'],
];
const swemwbsItems = [
  ['optimistic', 'Optimistic about the future'],
  ['useful', 'Feeling useful'],
  ['relaxed', 'Feeling relaxed'],
  ['dealingWithProblems', 'Dealing with problems well'],
  ['thinkingClearly', 'Thinking clearly'],
  ['closeToOthers', 'Feeling close to other people'],
  ['ownMind', 'Able to make up my own mind'],
];
const lonelinessAnswers = [
  ['', '(not asked)'],
  ['often-always', 'Often or always'],
  ['some-of-the-time', 'Some of the time'],
  ['occasionally', 'Occasionally'],
  ['hardly-ever', 'Hardly ever'],
  ['never', 'Never'],
];
const scale = (from, to) => [
  ['', '-'],
  ...Array.from({ length: to - from + 1 }, (_, i) => [String(from + i), String(from + i)]),
];

// Renders of the outcomes box in flight: only the latest may fill it. Two can overlap (the referral shown, then shown
// again after an action), and each clearing the box before its answer came would leave both forms in it.
let outcomesRenders = 0;

async function renderOutcomes(id) {
  const box = $('outcomes');
  const render = ++outcomesRenders;
  if (session.role !== 'link-worker') {
    box.replaceChildren();
    box.hidden = true;
    return;
  }
  const path = `${views[session.role].one(id)}/outcomes`;
  const { sets = [], changeFromBaseline } = await api('GET', path);
  if (render !== outcomesRenders) return;
  const title = document.createElement('h3');
  title.textContent = 'Outcome measures';
  const list = document.createElement('ul');
  list.id = 'outcome-sets';
  for (const set of sets) {
    const line = document.createElement('li');
    line.textContent = `${set.timepoint} on ${set.takenOn}`;
    list.append(line);
  }
  const change = document.createElement('p');
  change.id = 'outcome-change';
  change.textContent = changeFromBaseline?.available
    ? `Change from baseline: ${Object.keys(changeFromBaseline)
        .filter((k) => !['available', 'baseline', 'followUp', 'notCompared'].includes(k))
        .join(', ')} compared`
    : (changeFromBaseline?.reason ?? '');
  box.replaceChildren(title, list, change, outcomeForm(path, id));
  box.hidden = false;
}

function outcomeForm(path, id) {
  const timepoint = select('timepoint', [
    ['baseline', 'Baseline'],
    ['follow-up', 'Follow-up'],
  ]);
  const takenOn = document.createElement('input');
  takenOn.type = 'date';
  takenOn.name = 'takenOn';
  // Today where the person is (their browser's day), not UTC's: the API checks the day in UK time.
  takenOn.value = new Date().toLocaleDateString('en-CA');
  const group = (name, items, options) =>
    items.map(([key, label]) => [name, key, select(`${name}.${key}`, options), label]);
  const ons4 = group('ons4', ons4Items, scale(0, 10));
  const ucla3 = group('ucla3', ucla3Items, scale(1, 3));
  const swemwbs = group('swemwbs', swemwbsItems, scale(1, 5));
  const loneliness = select('lonelinessDirect', lonelinessAnswers);
  const controls = [field('Timepoint', timepoint), field('Taken on', takenOn)];
  for (const [, , control, label] of [...ons4, ...ucla3, ...swemwbs]) controls.push(field(label, control));
  controls.push(field('How often do you feel lonely?', loneliness));
  /** An instrument with every item answered, or left out when none is (a part-answered one is the API's to refuse). */
  const instrument = (items) => {
    const answered = items.filter(([, , control]) => control.value !== '');
    if (answered.length === 0) return undefined;
    return Object.fromEntries(answered.map(([, key, control]) => [key, Number(control.value)]));
  };
  const toBody = () => {
    const body = { timepoint: timepoint.value, takenOn: takenOn.value };
    for (const [name, items] of [
      ['ons4', ons4],
      ['ucla3', ucla3],
      ['swemwbs', swemwbs],
    ]) {
      const answers = instrument(items);
      if (answers) body[name] = answers;
    }
    if (loneliness.value) body.lonelinessDirect = loneliness.value;
    return body;
  };
  return form('Record outcome measures', controls, 'Record measures', toBody, (body) =>
    run(async () => {
      await api('POST', path, body);
      await showOne(id);
      say('Outcome measures recorded.');
    }),
  );
}

function addField(list, label, value) {
  if (value === undefined || value === null || value === '') return;
  const term = document.createElement('dt');
  term.textContent = label;
  const detail = document.createElement('dd');
  detail.textContent = String(value);
  detail.dataset.field = label;
  list.append(term, detail);
}

/** Nested fields as `a.b: value` lines, arrays joined: the referral as the API minimised it for this caller. */
function flatten(value, prefix = '', out = {}) {
  if (value === null || value === undefined) return out;
  if (Array.isArray(value)) {
    if (value.every((v) => typeof v !== 'object' || v === null)) out[prefix] = value.join(', ');
    else value.forEach((v, i) => flatten(v, `${prefix}[${i + 1}]`, out));
  } else if (typeof value === 'object') {
    for (const [key, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${key}` : key, out);
  } else out[prefix] = String(value);
  return out;
}

/** The actions the API says this caller may take now (`actions`); it refuses any other with a 409 saying why. */
function renderActions(id, item) {
  const box = $('actions');
  box.replaceChildren();
  const allowed = item.actions ?? [];
  const base = views[session.role].one(id);
  const act = (action, body, done) =>
    run(async () => {
      // The state this page shows goes with the version: an action a colleague has overtaken is refused (409).
      await api('POST', `${base}/${action}`, { version: item.version, state: stateOf(item), ...body });
      await showOne(id);
      say(done);
    });
  for (const action of allowed) {
    if (action === 'accept') box.append(button('Accept', () => act('accept', {}, 'Accepted.')));
    if (action === 'start') box.append(button('Start the intervention', () => act('start', {}, 'Started.')));
    if (action === 'decline') box.append(declineForm((body) => act('decline', body, 'Declined.')));
    if (action === 'contact') box.append(contactForm((body) => act('contact', body, 'Contact recorded.')));
    if (action === 'close') box.append(closeForm((body) => act('close', body, 'Closed.')));
  }
}

function button(text, onClick) {
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = text;
  b.addEventListener('click', onClick);
  return b;
}

function field(labelText, control) {
  const label = document.createElement('label');
  label.textContent = `${labelText} `;
  label.append(control);
  return label;
}

function select(name, options) {
  const s = document.createElement('select');
  s.name = name;
  s.append(...options.map(([value, text]) => new Option(text, value)));
  return s;
}

function form(legend, controls, submitText, toBody, submit) {
  const set = document.createElement('fieldset');
  const title = document.createElement('legend');
  title.textContent = legend;
  set.append(
    title,
    ...controls,
    button(submitText, () => submit(toBody())),
  );
  return set;
}

function declineForm(submit) {
  const reason = select('reason', declineReasons);
  const text = document.createElement('input');
  text.name = 'text';
  text.maxLength = 500;
  return form(
    'Decline',
    [field('Reason', reason), field('Details (for "other")', text)],
    'Decline',
    () => ({ reason: reason.value, ...(text.value.trim() ? { text: text.value.trim() } : {}) }),
    submit,
  );
}

function contactForm(submit) {
  const outcome = select('outcome', [
    ['made', 'Contact made'],
    ['attempted', 'Tried, no answer'],
  ]);
  const channel = select('channel', [
    ['phone', 'Phone'],
    ['email', 'Email'],
    ['text-message', 'Text message'],
    ['in-person', 'In person'],
    ['letter', 'Letter'],
    ['video', 'Video'],
  ]);
  return form(
    'Record contact',
    [field('Outcome', outcome), field('How', channel)],
    'Record contact',
    () => ({ outcome: outcome.value, channel: channel.value }),
    submit,
  );
}

function closeForm(submit) {
  const reason = select('reason', [
    ['completed', 'Support completed'],
    ['patient-withdrew', 'Patient stopped taking part'],
    ['patient-unreachable', 'Patient could not be contacted'],
    ['moved-away', 'Patient moved out of the area'],
    ['referred-elsewhere', 'Referred to another service'],
    ['other', 'Other reason (say why)'],
  ]);
  const text = document.createElement('input');
  text.name = 'text';
  text.maxLength = 500;
  return form(
    'Close',
    [field('Reason', reason), field('Details (for "other")', text)],
    'Close',
    () => ({ reason: reason.value, ...(text.value.trim() ? { text: text.value.trim() } : {}) }),
    submit,
  );
}

// ------------------------------------------------------------------------------------------------------------

/** Runs an action, showing its failure in words rather than losing it. */
async function run(action) {
  try {
    await action();
  } catch (error) {
    say(error instanceof Error ? error.message : String(error), true);
  }
}

$('sign-in-form').addEventListener('submit', (event) => {
  event.preventDefault();
  void run(() => signIn($('token').value.trim()));
});
$('sign-out').addEventListener('click', signOut);
$('status-filter').addEventListener('change', () => run(() => showWorklist()));
$('more').addEventListener('click', () => run(() => showWorklist(true)));
$('back').addEventListener('click', () => run(() => showWorklist()));

const saved = sessionStorage.getItem(tokenKey);
if (saved) void run(() => signIn(saved));
