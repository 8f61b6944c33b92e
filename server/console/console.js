// The operators' console: a page of the server that reads and changes
// everything through POST /graphql with the operator's own token, so it can
// do exactly what that token may do and nothing more. Plain DOM, no build
// step, no third-party code: every value from the server is written as text
// (textContent), never as HTML.

const TOKEN_KEY = 'weightgate-console-token';
const view = document.getElementById('view');
const status = document.getElementById('status');
let token = sessionStorage.getItem(TOKEN_KEY);
let role = null;

class GraphQLFailure extends Error {
  constructor(message, code) {
    super(message);
    this.code = code;
  }
}

async function graphql(query, variables = {}) {
  const response = await fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json().catch(() => ({}));
  if (response.status === 401) throw new GraphQLFailure(body.message ?? 'the token is unknown or revoked', body.code ?? 'BAD_TOKEN');
  if (!response.ok && !body.errors) throw new GraphQLFailure(body.message ?? `the server answered ${response.status}`, body.code);
  if (body.errors?.length) throw new GraphQLFailure(body.errors.map((e) => e.message).join('; '), body.errors[0].extensions?.code);
  return body.data;
}

// --- small DOM helpers -------------------------------------------------------

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const bytes = (n) => (n === null || n === undefined ? '–' : `${n.toLocaleString('en-US')} B`);
const percent = (x) => (x === null || x === undefined ? '–' : `${(x * 100).toFixed(1)} %`);
const when = (iso) => (iso ? new Date(iso).toLocaleString() : '–');

function table(headers, rows, numeric = []) {
  return el(
    'table',
    {},
    el(
      'thead',
      {},
      el(
        'tr',
        {},
        headers.map((h, i) => el('th', { class: numeric.includes(i) ? 'number' : null }, h)),
      ),
    ),
    el(
      'tbody',
      {},
      rows.map((cells) =>
        el(
          'tr',
          {},
          cells.map((cell, i) => el('td', { class: numeric.includes(i) ? 'number' : null }, cell)),
        ),
      ),
    ),
  );
}

function show(...nodes) {
  status.textContent = '';
  view.replaceChildren(...nodes.flat());
}

// --- the plot: accuracy against bytes, one line per version -----------------

const SVG = 'http://www.w3.org/2000/svg';
function svg(tag, attributes = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Accuracy (y) against artifact bytes (x) of each tier; the axes span the data, not zero. */
function tierPlot(versions) {
  const points = versions.flatMap((v) => v.tiers.map((t) => ({ version: v.number, ...t })));
  const width = 560;
  const height = 300;
  const margin = { left: 56, right: 24, top: 16, bottom: 40 };
  const plot = svg('svg', { class: 'plot', width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': 'accuracy against bytes per tier' });
  if (points.length === 0) return plot;
  const pad = (lo, hi, fraction) => {
    const span = hi - lo || Math.abs(hi) || 1;
    return [lo - span * fraction, hi + span * fraction];
  };
  const [x0, x1] = pad(Math.min(...points.map((p) => p.bytes)), Math.max(...points.map((p) => p.bytes)), 0.08);
  const [y0, y1] = pad(Math.min(...points.map((p) => p.accuracy)), Math.max(...points.map((p) => p.accuracy)), 0.12);
  const x = (b) => margin.left + ((b - x0) / (x1 - x0)) * (width - margin.left - margin.right);
  const y = (a) => height - margin.bottom - ((a - y0) / (y1 - y0)) * (height - margin.top - margin.bottom);
  for (let i = 0; i <= 4; i++) {
    const b = x0 + ((x1 - x0) * i) / 4;
    const a = y0 + ((y1 - y0) * i) / 4;
    plot.append(svg('line', { class: 'grid', x1: x(b), x2: x(b), y1: margin.top, y2: height - margin.bottom }));
    plot.append(svg('line', { class: 'grid', x1: margin.left, x2: width - margin.right, y1: y(a), y2: y(a) }));
    plot.append(svg('text', { x: x(b), y: height - margin.bottom + 14, 'text-anchor': 'middle' }, Math.round(b).toLocaleString('en-US')));
    plot.append(svg('text', { x: margin.left - 6, y: y(a) + 4, 'text-anchor': 'end' }, `${(a * 100).toFixed(1)}%`));
  }
  plot.append(svg('line', { class: 'axis', x1: margin.left, x2: width - margin.right, y1: height - margin.bottom, y2: height - margin.bottom }));
  plot.append(svg('line', { class: 'axis', x1: margin.left, x2: margin.left, y1: margin.top, y2: height - margin.bottom }));
  plot.append(svg('text', { x: (margin.left + width - margin.right) / 2, y: height - 6, 'text-anchor': 'middle' }, 'artifact bytes'));
  for (const [index, version] of versions.entries()) {
    const tiers = [...version.tiers].sort((a, b) => a.bytes - b.bytes);
    plot.append(svg('polyline', { points: tiers.map((t) => `${x(t.bytes)},${y(t.accuracy)}`).join(' ') }));
    for (const tier of tiers) {
      const px = x(tier.bytes);
      const py = y(tier.accuracy);
      const dot = svg('circle', { cx: px, cy: py, r: 4, 'data-tier': tier.name, 'data-version': version.number });
      dot.append(svg('title', {}, `v${version.number} ${tier.name}: ${percent(tier.accuracy)}, ${bytes(tier.bytes)}`));
      plot.append(dot);
      // Labels to the left of points in the right half, so nothing is cut at
      // the edge; each version's labels one line lower, so close points stay readable.
      const right = px > width / 2;
      const below = py < margin.top + 12 * (index + 1);
      const ly = below ? py + 16 + 12 * index : py - 6 - 12 * index;
      plot.append(svg('text', { x: right ? px - 7 : px + 7, y: ly, 'text-anchor': right ? 'end' : 'start' }, `v${version.number} ${tier.name}`));
    }
  }
  return plot;
}

/** A version's state, with its staged rollout when it has one: how far, and how its stage's installs went. */
function stateOf(version) {
  const r = version.rollout;
  if (!r || r.state === 'complete') return version.state;
  const stage = [`${r.percent} %`, r.group ? `group ${r.group}` : null].filter(Boolean).join(' + ');
  const outcomes = `${r.stage.devices} device${r.stage.devices === 1 ? '' : 's'}: ${r.stage.installed} installed, ${r.stage.failed} failed, ${r.stage.pending} pending`;
  const paused = r.state === 'paused' && r.pausedReason ? ` (${r.pausedReason})` : '';
  return `${version.state}, rollout ${r.state} to ${stage}; ${outcomes}${paused}`;
}

// --- the pages --------------------------------------------------------------

async function modelsPage() {
  // Two queries: together they would pass the server's cost limit.
  const [data, staged] = await Promise.all([
    graphql(`{
    models(first: 20) { nodes { name createdAt versions(first: 20) { nodes {
      number state bytes keyId createdAt tiers { name accuracy bytes intervals } } } } }
  }`),
    graphql(`{
    models(first: 20) { nodes { name versions(first: 20) { nodes {
      number rollout { state percent group pausedReason stage { devices installed failed pending } } } } } }
  }`),
  ]);
  const rollouts = new Map(staged.models.nodes.flatMap((m) => m.versions.nodes.map((v) => [`${m.name}@${v.number}`, v.rollout])));
  const sections = data.models.nodes.map((model) => {
    const versions = model.versions.nodes.map((v) => ({ ...v, rollout: rollouts.get(`${model.name}@${v.number}`) ?? null }));
    const published = versions.filter((v) => v.state !== 'draft');
    return el(
      'section',
      { 'data-model': model.name },
      el('h2', {}, model.name),
      table(
        ['version', 'state', 'full artifact', 'tiers', 'signed by', 'published'],
        versions.map((v) => [
          `v${v.number}`,
          stateOf(v),
          bytes(v.bytes),
          v.tiers.map((t) => `${t.name} ${percent(t.accuracy)} ${bytes(t.bytes)}`).join(' · '),
          v.keyId ?? 'unsigned',
          when(v.createdAt),
        ]),
        [2],
      ),
      el('h3', {}, 'Accuracy against bytes, per tier'),
      tierPlot(published.length ? published : versions),
    );
  });
  show(el('h2', {}, 'Models and versions'), sections.length ? sections : el('p', {}, 'No model has been published yet.'));
}

async function licensesPage() {
  const data = await graphql(`{
    models(first: 100) { nodes { name latest { number tiers { name accuracy bytes } } } }
    licenses(first: 500) { nodes { id model tier intervals kind expiresAt revokedAt customer { name }
      grant { version tier accuracy bytes } deviceCount } }
  }`);
  const tiersOf = new Map(data.models.nodes.map((m) => [m.name, m.latest?.tiers ?? []]));
  const rows = data.licenses.nodes.map((license) => {
    const preview = el('div', { class: 'preview', 'data-preview': license.id });
    const cells = [
      String(license.id),
      license.customer.name,
      license.model,
      license.tier ?? `intervals ${license.intervals?.join(',')}`,
      license.kind,
      license.grant ? `v${license.grant.version} ${percent(license.grant.accuracy)} ${bytes(license.grant.bytes)}` : '–',
      String(license.deviceCount),
      license.revokedAt ? `revoked ${when(license.revokedAt)}` : license.expiresAt ? `expires ${when(license.expiresAt)}` : 'active',
    ];
    if (license.kind === 'dynamic' && !license.revokedAt) {
      const select = el(
        'select',
        { 'data-license': license.id, 'aria-label': `new tier for license ${license.id}` },
        el('option', { value: '' }, 'change tier…'),
        tiersOf.get(license.model).map((t) => el('option', { value: t.name, disabled: t.name === license.tier }, `${t.name} (${percent(t.accuracy)})`)),
      );
      const apply = el('button', { type: 'button', 'data-apply': license.id, hidden: true }, 'Apply');
      select.addEventListener('change', () => previewTier(license, select.value, preview, apply));
      apply.addEventListener('click', () => applyTier(license, select.value, preview, apply));
      cells.push(el('div', {}, select, ' ', apply, preview));
    } else {
      cells.push(license.kind === 'static' ? 'static: fixed' : '–');
    }
    return cells;
  });
  show(el('h2', {}, 'Licenses'), table(['id', 'customer', 'model', 'grant', 'kind', 'now serves', 'devices', 'state', 'change'], rows, [0, 6]));
}

async function previewTier(license, tier, preview, apply) {
  apply.hidden = true;
  preview.replaceChildren();
  if (!tier) return;
  preview.textContent = 'computing the patches…';
  try {
    const data = await graphql(
      `query ($id: Int!, $tier: String!) { license(id: $id) { tierChange(tier: $tier) {
        tier version accuracy artifactBytes totalBytes devices { device { id name } bytes patch } } } }`,
      { id: license.id, tier },
    );
    const change = data.license.tierChange;
    preview.replaceChildren(
      el('div', {}, `${change.tier} at v${change.version}: ${percent(change.accuracy)}, artifact ${bytes(change.artifactBytes)}`),
      el('div', { 'data-total': change.totalBytes }, `${change.devices.length} device(s) download ${bytes(change.totalBytes)} in all:`),
      el(
        'ul',
        {},
        change.devices.map((d) =>
          el('li', { 'data-device': d.device.id, 'data-bytes': d.bytes }, `${d.device.name}: ${bytes(d.bytes)} ${d.patch ? '(patch)' : '(artifact)'}`),
        ),
      ),
    );
    apply.hidden = false;
  } catch (error) {
    preview.replaceChildren(el('span', { class: 'error' }, error.message));
  }
}

async function applyTier(license, tier, preview, apply) {
  apply.disabled = true;
  try {
    await graphql('mutation ($id: Int!, $tier: String!) { changeLicenseTier(id: $id, tier: $tier) { id tier } }', { id: license.id, tier });
    await licensesPage();
    status.replaceChildren(
      el('span', { class: 'ok', 'data-changed': license.id }, `License ${license.id} now grants ${tier}; its devices take it at their next check.`),
    );
  } catch (error) {
    apply.disabled = false;
    preview.append(el('div', { class: 'error' }, error.message));
  }
}

async function devicesPage() {
  const data = await graphql(`{
    devices(first: 1000) { nodes { id name license { id model } version tier accuracy slot lastSeenAt
      lastOutcome lastOutcomeReason downloadBytes lastReportAt } }
  }`);
  show(
    el('h2', {}, 'Devices'),
    table(
      ['id', 'name', 'license', 'version', 'tier', 'accuracy', 'slot', 'last seen', 'last update', 'downloaded'],
      data.devices.nodes.map((d) => [
        String(d.id),
        d.name,
        `${d.license.id} (${d.license.model})`,
        d.version ? `v${d.version}` : '–',
        d.tier ?? '–',
        percent(d.accuracy),
        d.slot ?? '–',
        when(d.lastSeenAt),
        d.lastOutcome ? `${d.lastOutcome}${d.lastOutcomeReason ? `: ${d.lastOutcomeReason}` : ''} (${when(d.lastReportAt)})` : '–',
        bytes(d.downloadBytes),
      ]),
      [0, 5, 9],
    ),
  );
}

async function auditPage() {
  const data = await graphql('{ audit(first: 200) { nodes { id at actorTokenId action entity entityId detail } } }');
  show(
    el('h2', {}, 'Audit log (newest first)'),
    table(
      ['id', 'at', 'token', 'action', 'entity', 'detail'],
      data.audit.nodes.map((e) => [
        String(e.id),
        when(e.at),
        e.actorTokenId === null ? '–' : String(e.actorTokenId),
        e.action,
        `${e.entity} ${e.entityId}`,
        el('span', { class: 'mono' }, JSON.stringify(e.detail)),
      ]),
      [0],
    ),
  );
}

const PAGES = { models: modelsPage, licenses: licensesPage, devices: devicesPage, audit: auditPage };
const PUBLISHER_PAGES = new Set(['models']);

async function open(tab) {
  for (const button of document.querySelectorAll('#tabs button')) {
    button.toggleAttribute('aria-current', button.dataset.tab === tab);
    if (button.dataset.tab === tab) button.setAttribute('aria-current', 'page');
  }
  document.body.dataset.ready = 'false';
  try {
    await PAGES[tab]();
  } catch (error) {
    if (error.code === 'BAD_TOKEN') return signOut(error.message);
    status.textContent = error.message;
  }
  document.body.dataset.ready = tab;
}

// --- signing in -------------------------------------------------------------

function signOut(message = '') {
  sessionStorage.removeItem(TOKEN_KEY);
  token = null;
  role = null;
  document.getElementById('tabs').hidden = true;
  document.getElementById('sign-out').hidden = true;
  document.getElementById('who').textContent = '';
  view.replaceChildren();
  document.getElementById('sign-in').hidden = false;
  document.getElementById('sign-in-error').textContent = message;
  document.body.dataset.ready = 'sign-in';
}

async function signIn(candidate) {
  token = candidate;
  try {
    const { me } = await graphql('{ me { role tokenId } }');
    if (me.role === 'device') throw new GraphQLFailure('this is a device token; the console is for admin and publisher tokens', 'FORBIDDEN');
    role = me.role;
    sessionStorage.setItem(TOKEN_KEY, candidate);
    document.getElementById('sign-in').hidden = true;
    document.getElementById('sign-out').hidden = false;
    document.getElementById('who').textContent = `${me.role} token #${me.tokenId}`;
    const tabs = document.getElementById('tabs');
    tabs.hidden = false;
    for (const button of tabs.querySelectorAll('button')) button.hidden = role !== 'admin' && !PUBLISHER_PAGES.has(button.dataset.tab);
    await open('models');
  } catch (error) {
    signOut(error.message);
  }
}

document.getElementById('sign-in').addEventListener('submit', (event) => {
  event.preventDefault();
  void signIn(document.getElementById('token').value.trim());
});
document.getElementById('sign-out').addEventListener('click', () => signOut());
for (const button of document.querySelectorAll('#tabs button')) button.addEventListener('click', () => void open(button.dataset.tab));

if (token) void signIn(token);
else signOut();
