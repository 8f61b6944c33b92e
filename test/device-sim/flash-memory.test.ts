// A flash kept in memory (storage 'memory', for fleets that never restart)
// behaves as the file-backed one within a process: the same bytes after
// every kind of write, torn writes included, the same device outcomes; and
// it writes no file.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDevice } from '../../device-sim/device.ts';
import { PowerCutError } from '../../device-sim/errors.ts';
import { Flash, type FlashStorage } from '../../device-sim/flash.ts';
import { EMPTY_SLOT, emptyState } from '../../device-sim/state-record.ts';
import { PowerCutInjector, type PowerCutPlan } from '../../device-sim/power-cut.ts';
import { diffArtifacts } from '../../formats/index.ts';
import { keys, randomSamples, syntheticArtifact } from './fixtures.ts';

const FLASH_BYTES = 256 * 1024;
const tempDir = () => mkdtempSync(join(tmpdir(), 'wg-flash-'));
const bytesOf = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);

/** Runs `steps` against a flash of each storage and returns what each can read afterwards. */
function afterSteps(storage: FlashStorage, plan: PowerCutPlan | null, steps: (flash: Flash, injector: PowerCutInjector) => void) {
  const dir = join(tempDir(), 'device');
  const injector = new PowerCutInjector(plan);
  const flash = new Flash(dir, FLASH_BYTES, injector, storage);
  let cut = false;
  try {
    steps(flash, injector);
  } catch (error) {
    if (!(error instanceof PowerCutError)) throw error;
    cut = true;
  }
  return {
    cut,
    dirExists: existsSync(dir),
    slots: [flash.readSlot(0), flash.readSlot(1)].map((b) => (b ? Array.from(b) : null)),
    images: [flash.readImage(0), flash.readImage(1)].map((b) => (b ? Array.from(b) : null)),
    download: flash.readDownload() ? Array.from(flash.readDownload()!) : null,
    downloadLength: flash.downloadLength(),
    downloadMeta: flash.readDownloadMeta(),
    state: flash.readState(),
  };
}

const scenarios: Array<{ name: string; plan: PowerCutPlan | null; steps: (flash: Flash, injector: PowerCutInjector) => void }> = [
  {
    name: 'whole slot, image and state writes',
    plan: null,
    steps: (flash) => {
      flash.writeSlot(0, bytesOf(9000, 1));
      flash.writeImage(0, 9000, bytesOf(3000, 2));
      flash.writeSlot(1, bytesOf(5000, 3));
      flash.writeState({ ...emptyState(), sequence: 1, active: 0, slots: [{ version: 3, bytes: 9000, sha256: 'ef'.repeat(32) }, EMPTY_SLOT] });
    },
  },
  {
    name: 'a slot write torn after 5,000 bytes',
    plan: { phase: 'apply', afterBytes: 5000 },
    steps: (flash, injector) => {
      flash.writeSlot(0, bytesOf(9000, 1));
      injector.enter('apply');
      flash.writeSlot(1, bytesOf(9000, 4));
    },
  },
  {
    name: 'a streamed slot write torn after 6,001 bytes',
    plan: { phase: 'apply', afterBytes: 6001 },
    steps: (flash, injector) => {
      injector.enter('apply');
      const writer = flash.openSlotWriter(1, 10_000);
      for (let at = 0; at < 10_000; at += 700) writer.append(bytesOf(Math.min(700, 10_000 - at), at));
    },
  },
  {
    name: 'a download appended in chunks, torn after 2,500 bytes',
    plan: { phase: 'download', afterBytes: 2500 + 60 },
    steps: (flash, injector) => {
      injector.enter('download');
      flash.beginDownload({ sha256: 'ab'.repeat(32), bytes: 4000, kind: 'patch' });
      for (let at = 0; at < 4000; at += 1000) flash.appendDownload(bytesOf(1000, at));
    },
  },
  {
    name: 'a download completed, then cleared; an image erased',
    plan: null,
    steps: (flash) => {
      flash.writeSlot(0, bytesOf(100, 5));
      flash.writeImage(0, 100, bytesOf(50, 6));
      flash.beginDownload({ sha256: 'cd'.repeat(32), bytes: 300, kind: 'artifact' });
      flash.appendDownload(bytesOf(300, 7));
      flash.clearDownload();
      flash.eraseImage(0);
    },
  },
];

for (const scenario of scenarios) {
  test(`memory flash reads what the file flash reads: ${scenario.name}`, () => {
    const files = afterSteps('files', scenario.plan, scenario.steps);
    const memory = afterSteps('memory', scenario.plan, scenario.steps);
    assert.is(files.dirExists, true);
    assert.is(memory.dirExists, false, 'a flash in memory writes no file');
    assert.equal({ ...memory, dirExists: true }, files);
  });
}

test('the download scenario really tears: the cut leaves a partial download in both', () => {
  const memory = afterSteps('memory', scenarios[3]!.plan, scenarios[3]!.steps);
  assert.ok(memory.cut);
  assert.ok(memory.downloadLength > 0 && memory.downloadLength < 4000, `${memory.downloadLength} bytes staged`);
});

test('a device on a flash in memory installs, patches and infers as one on files', async () => {
  const basic = syntheticArtifact({ version: 1, seed: 11, license: [1, 2] });
  const full = syntheticArtifact({ version: 1, seed: 11 });
  const samples = randomSamples(8, 784);
  const run = async (flash: FlashStorage) => {
    const dir = join(tempDir(), 'device');
    const device = await openDevice({ dir, profile: 'm0-32k', publicKey: keys.publicKeyPem, flash });
    const installed = device.installArtifact(basic);
    const patched = device.installPatch(diffArtifacts(basic, full));
    const { predictions } = device.infer(samples, 8);
    const status = device.status();
    return { dirExists: existsSync(dir), kinds: [installed.kind, patched.kind], slots: [installed.slot, patched.slot], status, predictions };
  };
  const onFiles = await run('files');
  const inMemory = await run('memory');
  assert.is(inMemory.dirExists, false);
  assert.equal(inMemory.status.heldIntervals, [0, 1, 2, 3]);
  assert.equal({ ...inMemory, dirExists: true }, onFiles);
});

test.run();
