// The main job's story end to end (`npm start`), with a small build: the
// checks both database drivers share. One test file per driver
// (demo-pglite.test.ts, demo-postgres.test.ts) so the two run in parallel.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDemo, type Narrator } from '../../demo/story.ts';
import { mnistDigits, selectSamples } from '../../pipeline/datasets.ts';
import { writeIdxSplits } from '../pipeline/helpers.ts';
import { writeDemoReport } from '../../demo/demo-report.ts';
import type { DemoResult } from '../../demo/demo-result.ts';
import { FULL_RUN, requiring, type Requirement } from '../requirements.ts';

const quiet: Narrator = {
  step() {},
  say() {},
  progress: { start() {}, update() {}, stop() {}, log() {} },
};

// A fixed setting, the budget off: the story is the subject here (test/pipeline/max-drop.test.ts tests the search).
const SMALL_BUILD = {
  preset: 'paper-101k',
  epochs: 1,
  pruneRounds: 1,
  pruneEpochs: 1,
  centroidEpochs: 1,
  tiers: 'basic:0.5',
  sparsity: 0.95,
  bits: 4,
  maxDrop: 100,
};

// Real digits, fewer of them: the demo's default is the mnist package's
// 10,000 (7,000 to train on, 2,000 to test), which made its two builds'
// training and the devices' evaluations most of this test's time. Every
// fourth digit to train on (2,500: 2,292 train, 208 validation) and every
// twentieth of the others to test (500), written as an IDX directory, the
// format `--data idx:DIR` reads.
const TRAIN_EVERY = 4;
const TEST_EVERY = 20;

async function writeDigitsIdx(dir: string): Promise<{ data: string; testSamples: number }> {
  const { samples, labels } = await mnistDigits();
  const pick = (keep: (index: number) => boolean) => {
    const indices = Uint32Array.from({ length: labels.length }, (_, i) => i).filter(keep);
    return selectSamples(samples, labels, indices);
  };
  const train = pick((i) => i % TRAIN_EVERY === 0);
  const test = pick((i) => i % TRAIN_EVERY !== 0 && i % TEST_EVERY === 1);
  writeIdxSplits(dir, { train, test });
  return { data: `idx:${dir}`, testSamples: test.count };
}

/** Registers and runs the story on one driver: embedded PGlite, or PostgreSQL at databaseUrl (in a scratch database the demo creates and drops). */
export function demoStoryTest(driver: { name: 'pglite' | 'postgres'; databaseUrl?: string; needs?: Requirement[] }): void {
  requiring(
    test,
    FULL_RUN,
    ...(driver.needs ?? []),
  )(`demo story on ${driver.name}: install, license upgrade, version patch, power cut`, async () => {
    const outDir = await mkdtemp(join(tmpdir(), 'wg-demo-test-'));
    try {
      const dataDir = join(outDir, 'digits');
      await mkdir(dataDir);
      const { data, testSamples } = await writeDigitsIdx(dataDir);
      let operators: OperatorsView | undefined;
      const result = await runDemo(
        {
          outDir,
          data,
          databaseUrl: driver.databaseUrl,
          build: SMALL_BUILD,
          afterStory: async (server) => void (operators = await operatorsView(server)),
        },
        quiet,
      );
      assert.is(result.database, driver.name);
      checkOperatorsView(operators, result);
      checkStory(result, testSamples);
      const files = await writeDemoReport(outDir, result);
      const written = JSON.parse(await readFile(files[0], 'utf8')) as DemoResult;
      for (const key of ['denseFloat32Bytes', 'compressionRatio', 'paperBytes', 'fullArtifactBytes', 'tiers', 'updates', 'powerCut', 'seconds']) {
        assert.ok(key in written, `demo.json lacks ${key}`);
      }
      assert.match(await readFile(files[2], 'utf8'), /^<svg /);
    } finally {
      await rm(outDir, { recursive: true, force: true });
    }
  });
  test.run();
}

interface OperatorsView {
  consoleStatus: number;
  data: any;
}

/** What `--serve` leaves up: the console page, and the demo's data through GraphQL with the admin token. */
async function operatorsView(server: { url: string; adminToken: string }): Promise<OperatorsView> {
  const consoleStatus = (await fetch(`${server.url}/console`)).status;
  const response = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { authorization: `Bearer ${server.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      query: '{ models { nodes { name versions { nodes { number tiers { name bytes } } } } } devices { nodes { name version tier downloadBytes } } }',
    }),
  });
  const body = await response.json();
  assert.is(body.errors, undefined, JSON.stringify(body.errors));
  return { consoleStatus, data: body.data };
}

function checkOperatorsView(view: OperatorsView | undefined, result: DemoResult): void {
  assert.ok(view, 'the demo called afterStory with its server');
  assert.is(view.consoleStatus, 200);
  const [model] = view.data.models.nodes;
  assert.is(model.name, result.model);
  assert.equal(
    model.versions.nodes.map((v: any) => v.number),
    [1, 2],
  );
  const devices = view.data.devices.nodes;
  assert.equal(
    devices.map((d: any) => [d.name, d.version]),
    [
      ['sensor-1', 2],
      ['sensor-2', 2],
    ],
  );
  // sensor-1 was upgraded to full; each device's last download is its patch to v2.
  assert.is(devices[0].tier, 'full');
  const patches = result.updates.filter((u) => u.kind === 'version').map((u) => u.patchBytes);
  assert.equal(
    devices.map((d: any) => d.downloadBytes),
    patches,
  );
}

function checkStory(result: DemoResult, testSamples: number): void {
  assert.is(result.params, 101_770);
  assert.is(result.denseFloat32Bytes, 101_770 * 4);
  assert.is(result.paperBytes, 2_090_000);
  assert.ok(result.fullArtifactBytes < result.denseFloat32Bytes / 10, `full artifact ${result.fullArtifactBytes} B is not 10x smaller than dense`);

  const kinds = result.updates.map((u) => `${u.device}:${u.kind}:v${u.toVersion}`);
  assert.equal(kinds, ['sensor-1:install:v1', 'sensor-2:install:v1', 'sensor-1:license-upgrade:v1', 'sensor-1:version:v2', 'sensor-2:version:v2']);

  const [install1, , upgrade, version1, version2] = result.updates;
  assert.is(install1.patchBytes, null);
  assert.is(install1.bytesSent, install1.fullArtifactBytes);
  // Dynamic licensing: only the added segments travel.
  assert.ok(upgrade.patchBytes !== null && upgrade.bytesSent === upgrade.patchBytes);
  assert.ok(upgrade.bytesSent < upgrade.fullArtifactBytes, 'the upgrade patch should be smaller than the full artifact');
  assert.ok(upgrade.intervals > install1.intervals);
  // A new version arrives as a patch; bytes sent equal the patch size (for
  // sensor-2, counting what arrived before its power cut and was kept in flash).
  assert.ok(version1.patchBytes !== null && version1.bytesSent === version1.patchBytes);
  assert.ok(version1.bytesSent < version1.fullArtifactBytes);
  assert.ok(version2.patchBytes !== null && version2.bytesSent + version2.bytesBeforePowerCut === version2.patchBytes);
  assert.is(result.updates.filter((u) => u.bytesBeforePowerCut > 0).length <= 1, true);

  assert.ok(result.push.noticeMs !== null, 'the upgrade reached the device as a push notice');
  assert.ok(result.push.runningMs >= result.push.noticeMs!, 'it ran the new tier after the notice');
  assert.ok(result.powerCut.recovered, 'the device did not come back on its complete old version');
  assert.is(result.powerCut.versionAfterRestart, 1);
  assert.is(result.powerCut.versionAfterUpdate, 2);
  assert.equal(result.device.finalVersions, [2, 2]);

  const names = result.tiers.map((t) => t.name);
  assert.ok(names.includes('basic') && names.includes('full'), `tiers ${names}`);
  const basic = result.tiers.find((t) => t.name === 'basic')!;
  const full = result.tiers.find((t) => t.name === 'full')!;
  assert.ok(basic.artifactBytes < full.artifactBytes);
  assert.ok(basic.accuracy <= full.accuracy, `basic ${basic.accuracy} > full ${full.accuracy}`);
  for (const tier of result.tiers) {
    // The device computes on the encoded form; it must agree with the pipeline's TF.js evaluation.
    // Both are measured on the whole test split; allow one sample's near-tie.
    assert.ok(tier.pipelineAccuracy !== null);
    assert.ok(
      Math.abs(tier.accuracy - tier.pipelineAccuracy!) <= 1 / testSamples + 1e-9,
      `${tier.name}: device ${tier.accuracy} vs pipeline ${tier.pipelineAccuracy}`,
    );
  }
  assert.ok(result.device.arenaHighWaterBytes <= result.device.arenaBytes);
}
