// The main job, end to end (`npm start`): the paper's whole story on one machine.
//
//   build v1 (train, prune, license tiers, share)  → publish v1
//   customer, two basic licenses, one device each  → devices install, infer
//   license of device 1 → full (dynamic licensing) → device 1 gets only the added segments
//   build v2 from v1 (centroid fine-tuning)        → publish v2, both devices patch
//   a power cut in the middle of device 2's update → reboot runs a complete version, then updates
//
// Every figure printed comes from this run; nothing is a constant but the
// paper's published sizes.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { generateKeyPair, readArtifact } from '../formats/index.ts';
import { runBuild, type BuildOptions, type BuildResult, type ProgressSink } from '../pipeline/build.ts';
import { loadDataset, type Dataset } from '../pipeline/datasets.ts';
import { startServer, type RunningServer } from '../server/start.ts';
import { createClient, type LicenseView } from '../server/client.ts';
import { openDevice, type Device, type UpdateOutcome } from '../device-sim/device.ts';
import { subscribePush } from '../device-sim/push-client.ts';
import { PowerCutError } from '../device-sim/errors.ts';
import { openScratchDatabase, type ScratchDatabase } from '../server/db/scratch-database.ts';
import { paperBytesFor, type DemoResult, type DemoTier, type DemoUpdate } from './demo-result.ts';

export interface DemoOptions {
  outDir: string;
  /** 'mnist' (default) or 'idx:DIR'. */
  data?: string;
  /** PostgreSQL base URL: the demo works in a scratch database there, dropped at the end. */
  databaseUrl?: string;
  /** Device profile of both devices; default m0-32k (256 KiB flash, 32 KiB RAM). */
  profile?: string;
  /** Pipeline knobs, for smaller runs (tests). The preset defaults to paper-109k. */
  build?: Partial<
    Pick<
      BuildOptions,
      'preset' | 'modelPath' | 'epochs' | 'pruneRounds' | 'pruneEpochs' | 'centroidEpochs' | 'sparsity' | 'bits' | 'intervals' | 'tiers' | 'seed'
    >
  >;
  /** Test samples each device evaluates (default: the whole test split). */
  samples?: number;
  /** Called when the story is told, before the server stops: `weightgate demo --serve` keeps it up for the console here. */
  afterStory?: (server: { url: string; adminToken: string }) => Promise<void>;
}

export interface Narrator {
  /** A step of the story begins. */
  step(title: string): void;
  /** A line of figures under the current step. */
  say(line: string): void;
  progress: ProgressSink;
}

const kb = (bytes: number) => `${bytes.toLocaleString('en-US')} B`;
const pct = (value: number) => `${(value * 100).toFixed(2)} %`;

export async function runDemo(options: DemoOptions, narrator: Narrator): Promise<DemoResult> {
  const started = performance.now();
  const outDir = resolve(options.outDir);
  await mkdir(outDir, { recursive: true });
  const work = await mkdtemp(join(tmpdir(), 'weightgate-demo-'));
  const data = options.data ?? 'mnist';
  let server: RunningServer | null = null;
  let scratch: ScratchDatabase | null = null;
  try {
    // 1. The publisher's key pair: CI holds the private key, devices trust the public one.
    const keys = generateKeyPair();
    await writeFile(join(outDir, 'publisher.pub'), keys.publicKeyPem);

    narrator.step('Build version 1 (pipeline: train, prune, license tiers, weight sharing)');
    const v1 = await runBuild(
      { preset: 'paper-109k', ...options.build, data, key: keys.privateKeyPem, version: 1, outDir: join(outDir, 'build-v1') },
      narrator.progress,
    );
    describeBuild(v1, narrator);

    narrator.step(`Start the weight storage server (${options.databaseUrl ? 'PostgreSQL' : 'embedded PGlite'})`);
    const adminToken = randomBytes(24).toString('hex');
    if (options.databaseUrl) scratch = await openScratchDatabase(options.databaseUrl, 'weightgate_demo');
    server = await startServer({ port: 0, dataDir: join(work, 'db'), databaseUrl: scratch?.url, adminToken, log: () => {}, push: { port: 0 } });
    narrator.say(`listening on ${server.url}${scratch ? ` (scratch database ${scratch.name})` : ` (data in ${join(work, 'db')})`}`);
    narrator.say(`operators' console: ${server.url}/console (sign in with the admin token ${adminToken})`);
    const admin = createClient({ server: server.url, token: adminToken });
    await admin.registerPublisherKey(keys.publicKeyPem, 'demo CI');
    const publisherToken = (await admin.createToken('publisher', 'demo CI')).token;
    const publisher = createClient({ server: server.url, token: publisherToken });

    const full1 = fullArtifactOf(v1);
    const published1 = await publisher.publish(full1);
    narrator.say(`published ${v1.report.model} v1 (${kb(full1.length)}, signed by key ${v1.report.keyId})`);
    void published1;

    narrator.step('A customer with two basic licenses, one device each');
    const customer = await admin.createCustomer('Acme Sensors');
    const licenses: LicenseView[] = [];
    const devices: Device[] = [];
    const tokens: string[] = [];
    const profile = options.profile ?? 'm0-32k';
    for (let i = 1; i <= 2; i++) {
      const license = await admin.createLicense({ customerId: customer.id, model: v1.report.model, tier: 'basic', kind: 'dynamic' });
      const registered = await admin.registerDevice(license.id, `sensor-${i}`);
      licenses.push(license);
      tokens.push(registered.token);
      devices.push(await openDevice({ dir: join(work, `device-${i}`), profile, server: server.url, token: registered.token, publicKey: keys.publicKeyPem }));
    }
    narrator.say(`licenses #${licenses[0].id} and #${licenses[1].id} grant tier basic; devices use profile ${profile}`);

    const dataset = await loadDataset(data);
    const testSplit = sliceSplit(dataset, options.samples);
    const updates: DemoUpdate[] = [];
    const record = (device: number, outcome: UpdateOutcome, afterPowerCut = false) => {
      const size = outcome.patchBytes ?? outcome.fullArtifactBytes;
      updates.push({
        device: `sensor-${device}`,
        kind: outcome.kind,
        fromVersion: outcome.fromVersion,
        toVersion: outcome.toVersion,
        intervals: outcome.heldIntervals.length,
        bytesSent: outcome.bytesSent,
        bytesBeforePowerCut: afterPowerCut ? size - outcome.bytesSent : 0,
        patchBytes: outcome.patchBytes,
        fullArtifactBytes: outcome.fullArtifactBytes,
      });
      const resumed = afterPowerCut ? `; ${kb(size - outcome.bytesSent)} had arrived before the power cut` : '';
      const via = (outcome.patchBytes === null ? 'full artifact' : `patch of ${kb(outcome.patchBytes)}`) + resumed;
      const share = outcome.fullArtifactBytes
        ? ` (${pct(outcome.bytesSent / outcome.fullArtifactBytes)} of the ${kb(outcome.fullArtifactBytes)} full artifact)`
        : '';
      narrator.say(
        `sensor-${device}: ${outcome.kind} v${outcome.fromVersion} → v${outcome.toVersion}, ${outcome.heldIntervals.length} intervals, ${kb(outcome.bytesSent)} sent via ${via}${share}`,
      );
    };

    narrator.step('Devices check for updates and install version 1 (basic tier)');
    for (let i = 0; i < devices.length; i++) record(i + 1, await devices[i].checkForUpdate());
    const basicRun = devices[0].evaluate(testSplit);
    narrator.say(`sensor-1 on basic: ${pct(basicRun.accuracy)} on ${basicRun.samples} test samples`);

    narrator.step('Dynamic licensing: license of sensor-1 upgraded to full, pushed to the device');
    const upgrade = await upgradeByPush(devices[0], tokens[0], () => admin.changeLicenseTier(licenses[0].id, { tier: 'full' }));
    record(1, upgrade.outcome);
    narrator.say(
      upgrade.noticeMs === null
        ? 'no push notice arrived within 10 s; sensor-1 checked by itself'
        : `sensor-1 heard of it ${upgrade.noticeMs} ms after the operator's command (MQTT) and ran the full tier ${upgrade.runningMs} ms after it`,
    );
    const idle = await devices[1].checkForUpdate();
    narrator.say(`sensor-2 (still basic): ${idle.kind === 'none' ? 'nothing to fetch' : idle.kind}`);
    const fullRun = devices[0].evaluate(testSplit);
    const fullStatus = devices[0].status();
    narrator.say(
      `sensor-1 on full: ${pct(fullRun.accuracy)}; median ${fullRun.latencyUs.median.toFixed(1)} µs/sample, arena high-water ${kb(fullRun.arenaHighWaterBytes)} of ${kb(fullRun.arenaBytes)}; ` +
        `flash ${kb(fullStatus.artifactBytes)} artifact + ${kb(fullStatus.imageBytes)} execution image (${fullStatus.kernel} kernels)`,
    );

    narrator.step('Build version 2 from version 1 (centroid fine-tuning; masks, codes and intervals kept)');
    const v2 = await runBuild(
      { fromDir: join(outDir, 'build-v1'), key: keys.privateKeyPem, outDir: join(outDir, 'build-v2'), ...pickEpochs(options) },
      narrator.progress,
    );
    describeBuild(v2, narrator);
    if (v2.report.from) narrator.say(`segments changed: ${v2.report.from.changedSegments.length} of ${v2.report.from.segments}`);
    const full2 = fullArtifactOf(v2);
    await publisher.publish(full2);
    narrator.say(`published v2 (${kb(full2.length)})`);

    narrator.step('Both devices patch to version 2; sensor-2 loses power in the middle');
    record(1, await devices[0].checkForUpdate());
    const cutDir = devices[1].dir;
    const before = devices[1].status();
    const cutDevice = await openDevice({
      dir: cutDir,
      profile,
      server: server.url,
      token: tokens[1],
      publicKey: keys.publicKeyPem,
      powerCut: { phase: 'apply', afterBytes: 1500 },
    });
    let cut: PowerCutError | null = null;
    try {
      await cutDevice.checkForUpdate();
    } catch (error) {
      if (!(error instanceof PowerCutError)) throw error;
      cut = error;
    }
    if (!cut) throw new Error('the planned power cut did not happen: the update wrote less than planned');
    narrator.say(`power cut during ${cut.phase}, ${kb(cut.atByte)} into writing the new version to the inactive slot`);
    const rebooted = await openDevice({ dir: cutDir, profile, server: server.url, token: tokens[1], publicKey: keys.publicKeyPem });
    const afterCut = rebooted.status();
    const bootRun = rebooted.evaluate(sliceSplit(dataset, Math.min(200, testSplit.count)));
    const recovered = afterCut.version === before.version && afterCut.sha256 === before.sha256 && bootRun.samples > 0;
    narrator.say(
      `reboot: running v${afterCut.version} (${afterCut.sha256?.slice(0, 12)}…), verified, ${recovered ? 'the complete old version' : 'NOT the old version'}`,
    );
    record(2, await rebooted.checkForUpdate(), true);
    devices[1] = rebooted;

    narrator.step('Accuracy on the device, per tier');
    const tiers = await measureTiers(v2, work, profile, keys.publicKeyPem, testSplit);
    for (const tier of tiers) narrator.say(`${tier.name.padEnd(9)} ${pct(tier.accuracy)}  ${kb(tier.artifactBytes)}  (${tier.intervals} intervals)`);
    const finalRuns = devices.map((device) => device.evaluate(testSplit));

    const result: DemoResult = {
      push: { noticeMs: upgrade.noticeMs, runningMs: upgrade.runningMs },
      model: v1.report.model,
      data,
      database: scratch ? 'postgres' : 'pglite',
      params: v1.report.params,
      denseFloat32Bytes: v1.report.denseFloat32Bytes,
      paperBytes: paperBytesFor(v1.report.params),
      fullArtifactBytes: full1.length,
      compressionRatio: v1.report.denseFloat32Bytes / full1.length,
      accuracy: { dense: v1.report.accuracy.dense, quantized: v1.report.accuracy.quantized },
      tiers,
      updates,
      powerCut: {
        phase: cut.phase,
        atByte: cut.atByte,
        recovered,
        versionAfterRestart: afterCut.version,
        versionAfterUpdate: rebooted.status().version,
      },
      device: {
        profile,
        latencyUs: fullRun.latencyUs,
        arenaHighWaterBytes: Math.max(...finalRuns.map((r) => r.arenaHighWaterBytes)),
        arenaBytes: fullRun.arenaBytes,
        finalVersions: devices.map((device) => device.status().version),
        finalAccuracy: finalRuns.map((r) => r.accuracy),
      },
      builds: { v1: v1.report.seconds, v2: v2.report.seconds },
      seconds: Math.round((performance.now() - started) / 10) / 100,
    };
    await options.afterStory?.({ url: server.url, adminToken });
    return result;
  } finally {
    await server?.close();
    await scratch?.drop();
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * Subscribes the device to its push topic, runs the operator's `change`,
 * and has the device check when the notice arrives (or after 10 s without
 * one): the times from the command to the notice and to running the result.
 */
async function upgradeByPush(
  device: Device,
  token: string,
  change: () => Promise<unknown>,
): Promise<{ outcome: UpdateOutcome; noticeMs: number | null; runningMs: number }> {
  const channel = device.pushChannel();
  let heard: () => void = () => {};
  const notice = new Promise<void>((resolve) => (heard = resolve));
  const subscription = channel ? subscribePush(channel, token, () => heard()) : null;
  try {
    if (subscription) await subscription.ready;
    const started = performance.now();
    await change();
    let timer: NodeJS.Timeout | undefined;
    const arrived = await Promise.race([notice.then(() => true), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), 10_000)))]);
    clearTimeout(timer);
    const noticeMs = arrived ? Math.round(performance.now() - started) : null;
    const outcome = await device.checkForUpdate();
    return { outcome, noticeMs, runningMs: Math.round(performance.now() - started) };
  } finally {
    await subscription?.close();
  }
}

function describeBuild(build: BuildResult, narrator: Narrator): void {
  const r = build.report;
  narrator.say(
    `${r.model} v${r.version}: ${r.params.toLocaleString('en-US')} parameters, backend ${r.backend}, sparsity ${pct(r.sparsity)}, ${r.bits}-bit codebooks`,
  );
  const dense = r.accuracy.dense === null ? '' : `dense ${pct(r.accuracy.dense)}, `;
  narrator.say(`test accuracy: ${dense}quantized ${pct(r.accuracy.quantized)}`);
  const paper = paperBytesFor(r.params);
  const paperText = paper ? `; the paper: ${(paper / 1e6).toFixed(2)} MB` : '';
  narrator.say(
    `full artifact ${kb(r.fullArtifactBytes)} vs dense float32 ${kb(r.denseFloat32Bytes)} (${(r.denseFloat32Bytes / r.fullArtifactBytes).toFixed(1)}x smaller)${paperText}`,
  );
  narrator.say(`tiers: ${r.tiers.map((t) => `${t.name} ${pct(t.accuracy)} ${kb(t.artifactBytes)}`).join(' · ')}`);
}

function fullArtifactOf(build: BuildResult): Uint8Array {
  const full = build.artifacts.find((a) => a.tier === 'full');
  if (!full) throw new Error('the build wrote no full artifact');
  return full.bytes;
}

function pickEpochs(options: DemoOptions): Partial<BuildOptions> {
  return options.build?.centroidEpochs === undefined ? {} : { centroidEpochs: options.build.centroidEpochs };
}

function sliceSplit(dataset: Dataset, samples?: number) {
  const split = dataset.test;
  const count = samples === undefined ? split.count : Math.min(samples, split.count);
  const size = split.samples.length / split.count;
  return { samples: split.samples.subarray(0, count * size), labels: split.labels.subarray(0, count), count };
}

/** Installs each tier's artifact on a fresh device of the profile (flashing by cable) and measures it. */
async function measureTiers(
  build: BuildResult,
  work: string,
  profile: string,
  publicKeyPem: string,
  split: ReturnType<typeof sliceSplit>,
): Promise<DemoTier[]> {
  const tiers: DemoTier[] = [];
  for (const artifact of build.artifacts) {
    const bytes = artifact.bytes.length ? artifact.bytes : new Uint8Array(await readFile(artifact.file));
    const device = await openDevice({ dir: join(work, `tier-${artifact.tier}`), profile, publicKey: publicKeyPem });
    device.installArtifact(bytes);
    const run = device.evaluate(split);
    tiers.push({
      name: artifact.tier,
      intervals: readArtifact(bytes).heldIntervals.length,
      accuracy: run.accuracy,
      pipelineAccuracy: build.report.tiers.find((t) => t.name === artifact.tier)?.accuracy ?? null,
      artifactBytes: bytes.length,
    });
  }
  return tiers.sort((a, b) => a.artifactBytes - b.artifactBytes);
}
