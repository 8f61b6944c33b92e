// Reading a directory of conformance records (the format of
// scripts/gen-conformance.ts: index.txt + files) and checking them against
// what device-sim computes now. Used on the generated vectors and on the
// C library's committed fixtures (artifacts written by earlier builds).
import * as assert from 'uvu/assert';
import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readArtifact, type Artifact } from '../../formats/index.ts';
import { loadArtifactOnProfile } from '../../device-sim/check-artifact.ts';
import { createInterpreter } from '../../device-sim/interpreter.ts';
import { openExecImage } from '../../device-sim/exec-image.ts';
import { checkFirmwareSupport, firmwarePlan, type Arithmetic, type FirmwareKernel } from '../../device-sim/firmware-plan.ts';
import { resolveProfile } from '../../device-sim/profiles.ts';
import { Arena } from '../../device-sim/arena.ts';
import { DeviceError, DeviceErrorCode } from '../../device-sim/errors.ts';
import { imageBytesOf, statusWords } from '../../scripts/gen-conformance.ts';

export interface Vectors {
  records(kind: string): string[][];
  file(name: string): Uint8Array;
  keyHex: string;
  /** The vectors' key, parsed once (every open with PEM text would parse it again). */
  publicKey: KeyObject;
  models: Map<string, { artifact: Artifact; inputs: number; outputs: number }>;
  samples: Map<string, { bytes: Uint8Array; count: number }>;
}

export function readVectors(dir: string): Vectors {
  const index = readFileSync(join(dir, 'index.txt'), 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => line.split(' '));
  const records = (kind: string) => index.filter((r) => r[0] === kind);
  const file = (name: string) => new Uint8Array(readFileSync(join(dir, name)));
  const keyHex = records('key')[0]![1]!;
  // The raw key, as the C library takes it, wrapped in SPKI for Node.
  const publicKey = createPublicKey({
    key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(keyHex, 'hex')]),
    format: 'der',
    type: 'spki',
  });
  const models = new Map<string, { artifact: Artifact; inputs: number; outputs: number }>();
  for (const [, name, path, inputs, outputs] of records('model')) {
    models.set(name!, {
      artifact: readArtifact(file(path!), { publicKey, requireSignature: true }),
      inputs: Number(inputs),
      outputs: Number(outputs),
    });
  }
  const samples = new Map(records('samples').map(([, name, path, count]) => [name!, { bytes: file(path!), count: Number(count) }]));
  return { records, file, keyHex, publicKey, models, samples };
}

/** Every `expect` record: the logits, exponent and class device-sim gives now (image kernels through check-artifact, coded without image). */
export function checkExpected(v: Vectors): void {
  for (const [, name, arith, kernel, path] of v.records('expect')) {
    const model = v.models.get(name!)!;
    const { bytes, count } = v.samples.get(name!)!;
    const expected = v.file(path!);
    const view = new DataView(expected.buffer, expected.byteOffset, expected.byteLength);
    const record = (model.outputs + (arith === 'int' ? 2 : 1)) * 4;
    assert.is(expected.length, count * record, `${path} size`);
    const interpreter =
      kernel === 'image'
        ? loadArtifactOnProfile(model.artifact.bytes, resolveProfile('esp32', { arithmetic: arith }), { kernel: 'image' }).interpreter!
        : createInterpreter(model.artifact, new Arena(1 << 20), { arithmetic: arith as 'f32' | 'int' });
    for (let s = 0; s < count; s++) {
      const sample = bytes.subarray(s * model.inputs, (s + 1) * model.inputs);
      const at = s * record;
      if (arith === 'f32') {
        const logits = interpreter.logits(sample);
        for (let j = 0; j < model.outputs; j++) {
          assert.ok(Object.is(view.getFloat32(at + j * 4, true), logits[j]), `${name} ${kernel} sample ${s} logit ${j}`);
        }
      } else {
        const { values, exponent } = interpreter.intLogits(sample);
        for (let j = 0; j < model.outputs; j++) assert.is(view.getInt32(at + j * 4, true), values[j], `${name} ${kernel} sample ${s} logit ${j}`);
        assert.is(view.getInt32(at + model.outputs * 4, true), exponent);
      }
      const logits = Array.from({ length: model.outputs }, (_, j) => (arith === 'f32' ? view.getFloat32(at + j * 4, true) : view.getInt32(at + j * 4, true)));
      const best = logits.indexOf(Math.max(...logits));
      assert.is(view.getUint32(at + record - 4, true), best, `${name} ${arith} ${kernel} sample ${s} class`);
    }
  }
}

/** Every `plan` record is firmwarePlan's (the f32 path's, which runs every model); every `image` is the one device-sim builds and opens, and a model has one exactly when an image holds it. */
export function checkPlansAndImages(v: Vectors): void {
  for (const [, name, coded, image, imageBytes] of v.records('plan')) {
    const plan = firmwarePlan(v.models.get(name!)!.artifact, 'f32');
    assert.equal([plan.arenaCodedBytes, plan.arenaImageBytes, plan.imageBytes], [Number(coded), Number(image), Number(imageBytes)], name);
    assert.is(v.records('image').filter((r) => r[1] === name).length, plan.imageBytes > 0 ? 1 : 0, `${name}: an image record when an image holds it`);
  }
  for (const [, name, path] of v.records('image')) {
    const artifact = v.models.get(name!)!.artifact;
    const bytes = v.file(path!);
    assert.is(bytes.length, Number(v.records('plan').find((r) => r[1] === name)![4]));
    assert.not.type(openExecImage(bytes, artifact), 'string', `${name} image opens`);
  }
}

/**
 * Every model has, for each arithmetic path and kernel, an `expect` record
 * or a `refuse` one; each refusal is checkFirmwareSupport's, and on the int
 * path device-sim has no such path for the model either (its interpreter
 * refuses it too, as the library does).
 */
export function checkRefusals(v: Vectors): number {
  for (const [name] of v.models) {
    for (const arith of ['f32', 'int']) {
      for (const kernel of ['coded', 'image']) {
        const has = (kind: string) => v.records(kind).filter((r) => r[1] === name && r[2] === arith && r[3] === kernel).length;
        assert.is(has('expect') + has('refuse'), 1, `${name} ${arith} ${kernel}: one expect or refuse record`);
      }
    }
  }
  const refusals = v.records('refuse');
  for (const [, name, arith, kernel, status] of refusals) {
    const { artifact } = v.models.get(name!)!;
    assert.is(status, 'WG_E_UNSUPPORTED', name);
    assert.throws(() => checkFirmwareSupport(artifact, arith as Arithmetic, kernel as FirmwareKernel), /UNSUPPORTED_MODEL|not supported/);
    if (arith !== 'int') continue;
    // device-sim refuses the model on the int path with that kernel too
    const image = kernel === 'image' ? openExecImage(imageBytesOf(artifact), artifact) : null;
    if (typeof image === 'string') throw new Error(image);
    let refusedBySim: boolean;
    try {
      createInterpreter(artifact, new Arena(1 << 20), { arithmetic: 'int', image });
      refusedBySim = false;
    } catch (error) {
      refusedBySim = error instanceof DeviceError && error.code === DeviceErrorCode.UNSUPPORTED_MODEL;
      if (!refusedBySim) throw error;
    }
    assert.ok(refusedBySim, `device-sim refuses ${name} on ${arith} ${kernel} too`);
  }
  return refusals.length;
}

/** Every `bad` record's statuses are what opening it with the key gives, on each path; returns the statuses seen. */
export function checkBad(v: Vectors): Set<string> {
  const statuses = new Set<string>();
  for (const [, name, path, ...status] of v.records('bad')) {
    assert.is(statusWords(v.file(path!), v.publicKey), status.join(' '), name);
    for (const s of status) statuses.add(s);
  }
  return statuses;
}

/** Every record of `kind` (unsigned artifacts opened without a key): its statuses are what opening it gives, on each path. */
export function checkUnsigned(v: Vectors, kind: 'forged' | 'badunsigned' | 'badgraph'): Set<string> {
  const statuses = new Set<string>();
  for (const [, name, path, ...status] of v.records(kind)) {
    assert.is(statusWords(v.file(path!), null), status.join(' '), name);
    for (const s of status) statuses.add(s);
  }
  return statuses;
}
