// Server benchmark (not a test): requests/s and p99 for update-check and for a
// cached patch of a paper-109k-sized model (784-128-64-10, ~90 % sparse,
// 4-bit) on PostgreSQL, against bare node:http serving the same bytes from
// memory in the same run; plus the incremental storage of a version that
// changes 10 % of its segments; and a 1,000-device list through GraphQL
// against REST, with the console's timings (bench/server/graphql.ts).
// Bounded: 2 + 4 x ROUNDS wrk runs of SECONDS each (about 70 s).
//
//   npx tsx bench/server/run.ts        (DATABASE_URL or postgres://postgres@127.0.0.1:5432/postgres)
//
// Writes bench/results/server.json.
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BASE_INTERVAL, encodeArtifact, generateKeyPair, readArtifact } from '../../formats/index.ts';
import { startServer } from '../../server/start.ts';
import { openScratchDatabase } from '../../server/db/scratch-database.ts';
import { createClient } from '../../server/client.ts';
import { createUpdateClient } from '../../device-sim/update-client.ts';
import { syntheticModel } from '../../test/fixtures/server-model.ts';
import { runWrk, type LoadResult } from './load.ts';
import { startBareServer } from './bare-server.ts';
import { measurePatchGeneration } from './patch-generation.ts';
import { measureGraphqlVsRest } from './graphql.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = 32;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

function median(results: LoadResult[]): LoadResult {
  const sorted = [...results].sort((a, b) => a.requestsPerSecond - b.requestsPerSecond);
  return sorted[Math.floor(sorted.length / 2)]!;
}
const ADMIN = `bench-admin-${randomBytes(12).toString('hex')}`;

const progress = (line: string) => process.stderr.write(`[bench/server] ${line}\n`);

/** Storage added by a version whose changed segments are 10 % of all licensed segments. */
async function measureIncrementalStorage(
  publish: (bytes: Uint8Array) => Promise<{ segments: { total: number; added: number; addedBytes: number; totalBytes: number } }>,
  key: string,
) {
  // Ten equal 128x128 kernels x 4 intervals = 40 licensed segments (+10 bias); change 4 of them.
  const sizes = Array(11).fill(128);
  const first = encodeArtifact(syntheticModel({ model: 'storage-probe', version: 1, sizes, density: 0.1, seed: 5 }), { privateKey: key });
  const licensedBytes = readArtifact(first)
    .segments.filter((segment) => segment.interval !== BASE_INTERVAL)
    .reduce((total, segment) => total + segment.data.byteLength, 0);
  const v1 = await publish(first);
  const changed = [0, 3, 6, 9].map((kernel) => ({ kernel, interval: kernel % 4 }));
  const v2 = await publish(encodeArtifact(syntheticModel({ model: 'storage-probe', version: 2, sizes, density: 0.1, seed: 5, changed }), { privateKey: key }));
  return {
    model: '128x10 MLP, 40 licensed + 10 bias segments',
    changedSegments: changed.length,
    licensedSegments: 40,
    firstVersionBytes: v1.segments.addedBytes,
    secondVersionAddedBytes: v2.segments.addedBytes,
    secondVersionSegmentsAdded: v2.segments.added,
    /** Added bytes over all stored segment bytes (biases included). */
    addedFraction: round(v2.segments.addedBytes / v2.segments.totalBytes, 3),
    /** Added bytes over the licensed (interval) segment bytes, the population the 10 % was drawn from. */
    addedFractionOfLicensedBytes: round(v2.segments.addedBytes / licensedBytes, 3),
  };
}

const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;

export async function runServerBench(): Promise<object> {
  progress('patch generation: by model size, and single flight');
  const patchGeneration = await measurePatchGeneration();
  const baseUrl = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
  const database = await openScratchDatabase(baseUrl, 'wg_bench');
  progress(`PostgreSQL scratch database ready; ${SECONDS}s per load run, ${CONNECTIONS} connections`);
  let server: Awaited<ReturnType<typeof startServer>>;
  try {
    server = await startServer({ port: 0, databaseUrl: database.url, adminToken: ADMIN, log: progress });
  } catch (error) {
    await database.drop();
    throw error;
  }
  let bare: Awaited<ReturnType<typeof startBareServer>> | undefined;
  try {
    const keys = generateKeyPair();
    const admin = createClient({ server: server.url, token: ADMIN });
    await admin.registerPublisherKey(keys.publicKeyPem, 'bench');
    const storage = await measureIncrementalStorage((bytes) => admin.publish(bytes), keys.privateKeyPem);
    progress(
      `incremental storage: ${storage.changedSegments}/40 licensed segments changed -> ${(storage.addedFraction * 100).toFixed(1)} % of all stored bytes added (${(storage.addedFractionOfLicensedBytes * 100).toFixed(1)} % of licensed bytes)`,
    );

    // The paper's 109,386-parameter MLP; v2 changes one of its 12 licensed segments.
    const v1 = encodeArtifact(syntheticModel({ model: 'paper-109k', version: 1 }), { privateKey: keys.privateKeyPem });
    const v2 = encodeArtifact(syntheticModel({ model: 'paper-109k', version: 2, changed: [{ kernel: 1, interval: 2 }] }), { privateKey: keys.privateKeyPem });
    await admin.publish(v1);
    const customer = await admin.createCustomer('bench');
    const license = await admin.createLicense({ customerId: customer.id, model: 'paper-109k', tier: 'gold' });
    const { token } = await admin.registerDevice(license.id, 'bench-device');
    const device = createUpdateClient({ server: server.url, token });
    const first = await device.check({ version: 0, heldIntervals: [] });
    await admin.publish(v2);
    const second = await device.check({ version: 1, heldIntervals: first.intervals, sha256: first.artifact.sha256 });
    if (!second.patch) throw new Error('no patch offered from v1 to v2');
    const patchBytes = new Uint8Array(await (await fetch(`${server.url}${second.patch.url}`, { headers: { authorization: `Bearer ${token}` } })).arrayBuffer());
    progress(`paper-109k: artifact ${second.artifact.bytes} bytes, patch v1->v2 ${second.patch.bytes} bytes (${v1.byteLength} bytes full v1)`);

    const auth = { Authorization: `Bearer ${token}` };
    const runs: Record<string, LoadResult> = {};
    const updateCheckUrl = `${server.url}/v1/device/update-check?version=2&intervals=${second.intervals.join(',')}&sha256=${second.artifact.sha256}`;
    progress('warm-up (JIT), not recorded ...');
    await runWrk({ url: updateCheckUrl, connections: CONNECTIONS, seconds: 2, headers: auth });
    await runWrk({ url: `${server.url}${second.patch.url}`, connections: CONNECTIONS, seconds: 1, headers: auth });
    progress('load: update-check (device up to date) ...');
    runs.updateCheck = await runWrk({ url: updateCheckUrl, connections: CONNECTIONS, seconds: SECONDS, headers: auth });
    // Patch vs bare alternate for ROUNDS rounds and each keeps its median
    // round: the machine is shared, so one run of each would mostly measure
    // whatever else ran at that moment.
    bare = await startBareServer(patchBytes, second.patch.sha256);
    const patchRounds: LoadResult[] = [];
    const bareRounds: LoadResult[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      progress(`load: cached patch via weightgate, round ${round}/${ROUNDS} ...`);
      patchRounds.push(await runWrk({ url: `${server.url}${second.patch.url}`, connections: CONNECTIONS, seconds: SECONDS, headers: auth }));
      progress(`load: same bytes via bare node:http, round ${round}/${ROUNDS} ...`);
      bareRounds.push(await runWrk({ url: bare.url, connections: CONNECTIONS, seconds: SECONDS, headers: auth }));
    }
    runs.patch = median(patchRounds);
    runs.barePatch = median(bareRounds);
    progress('load: full artifact via weightgate ...');
    runs.artifact = await runWrk({ url: `${server.url}${second.artifact.url}`, connections: CONNECTIONS, seconds: SECONDS, headers: auth });

    const graphql = await measureGraphqlVsRest({
      serverUrl: server.url,
      adminToken: ADMIN,
      model: 'paper-109k',
      tier: 'gold',
      seconds: SECONDS,
      rounds: ROUNDS,
      progress,
    });
    progress(`graphql: ${graphql.devices}-device list p99 ${graphql.graphql.p99Ms} ms vs REST ${graphql.rest.p99Ms} ms (${graphql.p99Ratio}x)`);

    const ratio = runs.patch.requestsPerSecond / runs.barePatch.requestsPerSecond;
    const result = {
      when: new Date().toISOString(),
      machine: { cpus: (await import('node:os')).cpus().length, node: process.version, database: 'PostgreSQL (postgres.js)' },
      tool: `wrk -t2 -c${CONNECTIONS} -d${SECONDS}s on 127.0.0.1; patch and bare: median of ${ROUNDS} alternating rounds`,
      model: { name: 'paper-109k (784-128-64-10, 10 % dense, 4-bit codebook)', artifactBytes: second.artifact.bytes, patchBytes: second.patch.bytes },
      runs,
      patchVsBare: round(ratio, 3),
      rounds: {
        patchRequestsPerSecond: patchRounds.map((r) => round(r.requestsPerSecond)),
        bareRequestsPerSecond: bareRounds.map((r) => round(r.requestsPerSecond)),
      },
      targets: {
        patchAtLeast80PercentOfBare: ratio >= 0.8,
        patchP99Under20Ms: runs.patch.p99Ms < 20,
        updateCheckP99Under20Ms: runs.updateCheck.p99Ms < 20,
        patchGenerationUnder5MsAt68k: patchGeneration.rows.filter((row) => row.entries > 60_000).every((row) => row.fromPartsMs < 5),
        patchBuiltOnceUnderConcurrency: patchGeneration.singleFlight.builds === 1,
        graphqlListP99Within2xRest: graphql.p99Ratio <= 2,
      },
      graphql,
      incrementalStorage: storage,
      patchGeneration,
    };
    return result;
  } finally {
    await bare?.close();
    await server.close();
    await database.drop();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const result = (await runServerBench()) as { runs: Record<string, LoadResult>; patchVsBare: number };
  const out = fileURLToPath(new URL('../results/server.json', import.meta.url));
  mkdirSync(fileURLToPath(new URL('../results/', import.meta.url)), { recursive: true });
  writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
  for (const [name, r] of Object.entries(result.runs)) {
    process.stdout.write(
      `${name.padEnd(12)} ${r.requestsPerSecond.toFixed(0).padStart(8)} req/s  p50 ${r.p50Ms.toFixed(2)} ms  p99 ${r.p99Ms.toFixed(2)} ms  non-2xx ${r.non2xx}\n`,
    );
  }
  process.stdout.write(`patch vs bare node:http: ${(result.patchVsBare * 100).toFixed(1)} %\nwrote ${out}\n`);
}
