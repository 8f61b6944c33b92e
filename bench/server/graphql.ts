// The operators' read path under load (part of bench/server): listing 1,000
// devices through POST /graphql against the same list through REST
// (GET /v1/devices), same fields, same server, alternating wrk rounds; and,
// when Debian's Chromium is installed, how soon the console is usable on
// that data (sign-in page interactive, first page after signing in, the
// 1,000-device page), measured in the browser.
import { existsSync } from 'node:fs';
import { runWrk, type LoadResult } from './load.ts';
import { CHROMIUM_PATH } from '../../test/requirements.ts';

const DEVICES = 1000;
const CONNECTIONS = 8;

/** The REST list's fields, asked for through GraphQL. */
export const DEVICE_LIST_QUERY = `{ devices(first: ${DEVICES}) { nodes { id name licenseId version heldIntervals sha256 lastSeenAt slot
  lastOutcome lastOutcomeReason downloadBytes lastReportAt createdAt } } }`;

export interface GraphqlBench {
  devices: number;
  tool: string;
  rest: LoadResult;
  graphql: LoadResult;
  rounds: { restP99Ms: number[]; graphqlP99Ms: number[] };
  /** GraphQL p99 over REST p99 (target: at most 2). */
  p99Ratio: number;
  console: ConsoleTiming | null;
}

export interface ConsoleTiming {
  /** Navigation start to the sign-in form ready (performance.now() in the page). */
  signInInteractiveMs: number;
  /** Click on "Sign in" to the first page (models, versions, plot) rendered. */
  firstPageMs: number;
  /** Click on "Devices" to the 1,000-device table rendered. */
  devicesPageMs: number;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

async function call(url: string, token: string, method: string, body?: unknown): Promise<any> {
  const response = await fetch(url, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${method} ${url}: ${response.status} ${await response.text()}`);
  return response.json();
}

/** Registers devices under a new license on `model` (tier `tier`) until the server has DEVICES of them. */
async function registerFleet(serverUrl: string, adminToken: string, model: string, tier: string): Promise<void> {
  const have = (await call(`${serverUrl}/v1/devices`, adminToken, 'GET')).devices.length;
  const customer = await call(`${serverUrl}/v1/customers`, adminToken, 'POST', { name: 'graphql-bench' });
  const license = await call(`${serverUrl}/v1/licenses`, adminToken, 'POST', { customerId: customer.id, model, tier });
  for (let i = have; i < DEVICES; i += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, DEVICES - i) }, (_, j) =>
        call(`${serverUrl}/v1/devices`, adminToken, 'POST', { licenseId: license.id, name: `bench-${i + j}` }),
      ),
    );
  }
}

export async function measureGraphqlVsRest(options: {
  serverUrl: string;
  adminToken: string;
  model: string;
  tier: string;
  seconds: number;
  rounds: number;
  progress: (line: string) => void;
}): Promise<GraphqlBench> {
  const { serverUrl, adminToken, progress } = options;
  progress(`graphql: registering ${DEVICES} devices`);
  await registerFleet(serverUrl, adminToken, options.model, options.tier);
  const rest = await call(`${serverUrl}/v1/devices`, adminToken, 'GET');
  const graphql = await call(`${serverUrl}/graphql`, adminToken, 'POST', { query: DEVICE_LIST_QUERY });
  if (graphql.errors || graphql.data.devices.nodes.length !== rest.devices.length) {
    throw new Error(`the GraphQL list differs from the REST list: ${JSON.stringify(graphql.errors ?? graphql.data.devices.nodes.length)}`);
  }
  const auth = { Authorization: `Bearer ${adminToken}` };
  const restRun = () => runWrk({ url: `${serverUrl}/v1/devices`, connections: CONNECTIONS, seconds: options.seconds, headers: auth });
  const graphqlRun = () =>
    runWrk({ url: `${serverUrl}/graphql`, connections: CONNECTIONS, seconds: options.seconds, headers: auth, postJson: { query: DEVICE_LIST_QUERY } });
  progress('graphql: warm-up (JIT), not recorded ...');
  await runWrk({ url: `${serverUrl}/v1/devices`, connections: CONNECTIONS, seconds: 1, headers: auth });
  await runWrk({ url: `${serverUrl}/graphql`, connections: CONNECTIONS, seconds: 1, headers: auth, postJson: { query: DEVICE_LIST_QUERY } });
  const restRounds: LoadResult[] = [];
  const graphqlRounds: LoadResult[] = [];
  for (let round = 1; round <= options.rounds; round++) {
    progress(`graphql: ${DEVICES}-device list via REST, round ${round}/${options.rounds} ...`);
    restRounds.push(await restRun());
    progress(`graphql: the same list via GraphQL, round ${round}/${options.rounds} ...`);
    graphqlRounds.push(await graphqlRun());
  }
  const byP99 = (runs: LoadResult[]) => runs.find((r) => r.p99Ms === median(runs.map((x) => x.p99Ms)))!;
  const restMedian = byP99(restRounds);
  const graphqlMedian = byP99(graphqlRounds);
  for (const run of [...restRounds, ...graphqlRounds]) {
    if (run.non2xx > 0 || run.socketErrors > 0) throw new Error(`load run had ${run.non2xx} non-2xx answers and ${run.socketErrors} socket errors: ${run.url}`);
  }
  return {
    devices: DEVICES,
    tool: `wrk -t2 -c${CONNECTIONS} -d${options.seconds}s on 127.0.0.1, median p99 of ${options.rounds} alternating rounds`,
    rest: restMedian,
    graphql: graphqlMedian,
    rounds: { restP99Ms: restRounds.map((r) => r.p99Ms), graphqlP99Ms: graphqlRounds.map((r) => r.p99Ms) },
    p99Ratio: round(graphqlMedian.p99Ms / restMedian.p99Ms),
    console: existsSync(CHROMIUM_PATH) ? await measureConsole(serverUrl, adminToken, progress) : null,
  };
}

async function measureConsole(serverUrl: string, adminToken: string, progress: (line: string) => void): Promise<ConsoleTiming> {
  progress('graphql: the console in Chromium ...');
  const { launchChromium } = await import('../../test/chromium.ts');
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${serverUrl}/console`);
    await page.waitForSelector('body[data-ready="sign-in"]');
    const signInInteractiveMs = await page.evaluate(() => performance.now());
    await page.fill('#token', adminToken);
    const signIn = await page.evaluate(() => performance.now());
    await page.click('#sign-in button[type=submit]');
    await page.waitForSelector('body[data-ready="models"]');
    const firstPage = await page.evaluate(() => performance.now());
    const devicesStart = await page.evaluate(() => performance.now());
    await page.click('button[data-tab="devices"]');
    await page.waitForSelector('body[data-ready="devices"]');
    const devicesDone = await page.evaluate(() => performance.now());
    return {
      signInInteractiveMs: Math.round(signInInteractiveMs),
      firstPageMs: Math.round(firstPage - signIn),
      devicesPageMs: Math.round(devicesDone - devicesStart),
    };
  } finally {
    await browser.close();
  }
}
