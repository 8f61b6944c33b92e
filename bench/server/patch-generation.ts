// What building one patch costs the server, by model size, for a small
// change: the server's build step (both artifacts as Artifacts over the
// stored, verified parts, then formats' diffReadArtifacts) against reading
// both artifacts back and diffing them (diffArtifacts on their bytes, what
// the server did before), in the same run; medians of REPEATS. Models:
// paper-109k-shaped (784-128-64-10, 4-bit codebook, 8 intervals) at two
// densities (about 5.7k and 68k kept weights). Changes: centroids
// fine-tuned (the pipeline's `build --from`: no segment changes) and 0.5 %
// of the weights of the last layer moved (its segments change, the rest do
// not).
//
// Plus single flight, counted: 100 concurrent first update-checks on one
// in-process server (PGlite) for a new version, and how many times the
// patch was built.
//
//   npx tsx bench/server/patch-generation.ts      prints the JSON
import { createPublicKey, randomBytes } from 'node:crypto';
import {
  denseChain,
  artifactOfVerifiedParts,
  diffArtifacts,
  diffReadArtifacts,
  encodeArtifact,
  generateKeyPair,
  readArtifact,
  splitArtifact,
  type ModelInput,
} from '../../formats/index.ts';
import { buildApp } from '../../server/app.ts';
import { ensureAdminToken } from '../../server/auth.ts';
import { openDatabase } from '../../server/db/connect.ts';
import { paperModelInput } from '../device/paper-model.ts';
import { changeCentroids } from '../../test/fixtures/model-versions.ts';
import { createRandom } from '../../formats/index.ts';
import { median, roundTo } from '../stats.ts';

const REPEATS = 15;
const round = (n: number, digits = 2) => roundTo(n, digits);

/** A later version that moved `fraction` of the last layer's kept weights to another centroid. */
function moveLastLayer(input: ModelInput, fraction: number): ModelInput {
  const random = createRandom(77);
  const last = denseChain(input.layers)!.at(-1)!.kernel;
  return {
    ...input,
    version: input.version + 1,
    tensors: input.tensors.map((t, i) => {
      if (i !== last || !t.codebook) return t;
      const values = Float32Array.from(t.values);
      for (let p = 0; p < values.length; p++) if (values[p] !== 0 && random() < fraction) values[p] = t.codebook[Math.floor(random() * t.codebook.length)]!;
      return { ...t, values };
    }),
  };
}

function time(run: () => unknown): number {
  run(); // warm-up
  const times: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    const started = performance.now();
    run();
    times.push(performance.now() - started);
  }
  return median(times);
}

export interface GenerationRow {
  model: string;
  entries: number;
  change: string;
  patchBytes: number;
  /** From the stored parts (the server now). */
  fromPartsMs: number;
  /** diffArtifacts on both artifacts' bytes (read back and verified again). */
  readBackMs: number;
}

export async function measurePatchGeneration(): Promise<{ repeats: number; rows: GenerationRow[]; singleFlight: { requests: number; builds: number } }> {
  const { privateKeyPem } = generateKeyPair();
  const rows: GenerationRow[] = [];
  for (const pruned of [0.95, 0.375]) {
    const v1 = paperModelInput({ pruned });
    const a = encodeArtifact(v1, { privateKey: privateKeyPem });
    const entries = readArtifact(a).manifest.segments.reduce((n, s) => n + s.count, 0);
    for (const [change, next] of [
      ['centroids fine-tuned', changeCentroids(v1, 0.002)],
      ['0.5 % of the last layer moved', moveLastLayer(v1, 0.005)],
    ] as const) {
      const b = encodeArtifact(next, { privateKey: privateKeyPem });
      const partsA = splitArtifact(readArtifact(a));
      const partsB = splitArtifact(readArtifact(b));
      const license = readArtifact(a).heldIntervals;
      const fromParts = () => diffReadArtifacts(artifactOfVerifiedParts(partsA, license), artifactOfVerifiedParts(partsB, license));
      const patch = fromParts();
      if (!Buffer.from(patch).equals(Buffer.from(diffArtifacts(a, b)))) throw new Error('bench/server/patch-generation: the two paths differ');
      rows.push({
        model: `paper-109k shape, ${Math.round((1 - pruned) * 100)} % kept`,
        entries,
        change,
        patchBytes: patch.length,
        fromPartsMs: round(time(fromParts), 3),
        readBackMs: round(
          time(() => diffArtifacts(a, b)),
          3,
        ),
      });
    }
  }
  return { repeats: REPEATS, rows, singleFlight: await countSingleFlight(privateKeyPem) };
}

/** 100 concurrent first update-checks for a new version on one in-process server: builds counted. */
async function countSingleFlight(privateKeyPem: string): Promise<{ requests: number; builds: number }> {
  const database = await openDatabase({});
  try {
    const admin = `bench-admin-${randomBytes(12).toString('hex')}`;
    await ensureAdminToken(database.db, admin);
    const { app, ctx } = buildApp({ db: database.db });
    const call = async (method: string, path: string, token: string, body?: unknown, bytes?: Uint8Array) => {
      const headers: Record<string, string> = { authorization: `Bearer ${token}` };
      if (body !== undefined) headers['content-type'] = 'application/json';
      if (bytes) headers['content-type'] = 'application/octet-stream';
      const r = await app.request(path, {
        method,
        headers,
        body: bytes ? (bytes as Uint8Array<ArrayBuffer>) : body !== undefined ? JSON.stringify(body) : undefined,
      });
      const json = (await r.json()) as Record<string, any>;
      if (r.status >= 300) throw new Error(`bench/server/patch-generation: ${method} ${path}: ${r.status} ${JSON.stringify(json)}`);
      return json;
    };
    const publicKeyPem = createPublicKey(privateKeyPem).export({ type: 'spki', format: 'pem' }).toString();
    await call('POST', '/v1/publisher-keys', admin, { label: 'bench', publicKey: publicKeyPem });
    const v1 = paperModelInput({ pruned: 0.95 });
    await call('POST', '/v1/versions', admin, undefined, encodeArtifact(v1, { privateKey: privateKeyPem }));
    const customer = await call('POST', '/v1/customers', admin, { name: 'bench' });
    const license = await call('POST', '/v1/licenses', admin, { customerId: customer.id, model: 'paper-109k', tier: 'full', kind: 'dynamic' });
    const device = await call('POST', '/v1/devices', admin, { licenseId: license.id, name: 'd' });
    const first = await call('GET', '/v1/device/update-check?version=0&intervals=', device.token);
    await call('POST', '/v1/versions', admin, undefined, encodeArtifact(changeCentroids(v1, 0.002), { privateKey: privateKeyPem }));
    const before = ctx.work.patchesBuilt;
    const query = `version=1&intervals=${first.intervals.join(',')}&sha256=${first.artifact.sha256}`;
    const replies = await Promise.all(Array.from({ length: 100 }, () => call('GET', `/v1/device/update-check?${query}`, device.token)));
    if (!replies.every((r) => r.patch))
      throw new Error(`bench/server/patch-generation: a check was not offered the patch: ${JSON.stringify({ first, reply: replies[0] })}`);
    return { requests: replies.length, builds: ctx.work.patchesBuilt - before };
  } finally {
    await database.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await measurePatchGeneration(), null, 2));
}
