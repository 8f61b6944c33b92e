// The wasm image kernels of convolutional models (conv-image.wat through
// conv-image-wasm.ts) against their TypeScript reference, bit for bit:
// convolutions against conv-image.ts's convImageLayer over random shapes,
// strides, both paddings, depthwise multipliers, codebook and per-entry
// weights, every count and entry width, sparse inputs with ±0 (and some
// infinities and NaNs); pools, global average pooling and preprocessing
// against conv.ts and dense-reference.ts; whole models against the
// TypeScript image kernels; and the generated module against its .wat.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { elementCount, encodeArtifact, featureMap, layerShapes, readArtifact, type Artifact, type Padding, type WeightedLayer } from '../../formats/index.ts';
import { Arena } from '../../device-sim/arena.ts';
import { prepareExecImage, type ImageLayer } from '../../device-sim/exec-image.ts';
import { createInterpreter } from '../../device-sim/interpreter.ts';
import { convImageLayer } from '../../device-sim/kernels/conv-image.ts';
import {
  activationCode,
  CONV_OUTPUT_SLACK,
  convGeometry,
  convImageKernelsFor,
  convImageLayerWasm,
  convItemsBytes,
  convItemsFits,
  convItemsWasm,
  convBandBytes,
  convPixelsFits,
  convPixelsPlanarWasm,
  convPixelsTakes,
  convPixelsWasm,
  convTapsBytes,
  decodedEntriesBytes,
  denseRows,
  denseWeightBytes,
  depthwiseDenseFits,
  depthwiseDenseWasm,
  finiteWeights,
  poolNhwcWasm,
  poolTakesPairs,
  poolWasm,
  rowExtentsBytes,
} from '../../device-sim/kernels/conv-image-wasm.ts';
import { avgPool2d, globalAvgPool2d, maxPool2d, windowOutput, type MapShape, type WindowParams } from '../../device-sim/kernels/conv.ts';
import { applyActivation, preprocess } from '../../device-sim/kernels/dense-reference.ts';
import { evalImageLayer } from '../../device-sim/kernels/sparse-rows.ts';
import { layerAddresses } from '../../device-sim/kernels/sparse-rows-wasm.ts';
import { renderConvImageWasm } from '../../scripts/gen-wasm.mjs';
import { CONV_LAYERS, convModel } from '../fixtures/conv-model.ts';
import { randomSamples } from './fixtures.ts';

const RUNS = 300;

/** mulberry32: a small seeded generator, so a failing case replays from its seed. */
function generator(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A feature map's values: about `zeros` of them ±0, a few infinite or NaN when `wild`. */
function randomMap(n: number, random: () => number, zeros: number, wild: boolean): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const r = random();
    if (r < zeros) out[i] = random() < 0.5 ? 0 : -0;
    else if (wild && r > 0.995) out[i] = [Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN][Math.floor(random() * 3)]!;
    else out[i] = (random() * 2 - 1) * 4;
  }
  return out;
}

/** NHWC [h, w, c] to planar [c, h, w], and back. */
function toPlanar(map: Float32Array, cells: number, channels: number): Float32Array {
  const out = new Float32Array(map.length);
  for (let cell = 0; cell < cells; cell++) for (let c = 0; c < channels; c++) out[c * cells + cell] = map[cell * channels + c]!;
  return out;
}
function fromPlanar(map: Float32Array, cells: number, channels: number): Float32Array {
  const out = new Float32Array(map.length);
  for (let cell = 0; cell < cells; cell++) for (let c = 0; c < channels; c++) out[cell * channels + c] = map[c * cells + cell]!;
  return out;
}

function assertSameBits(ours: Float32Array, theirs: Float32Array, label: string): void {
  assert.is(ours.length, theirs.length, label);
  for (let i = 0; i < ours.length; i++) {
    if (!Object.is(ours[i], theirs[i])) assert.unreachable(`${label}: value ${i} is ${ours[i]}, the reference's ${theirs[i]}`);
  }
}

/**
 * An address space as a device's: RAM, and an image mapped at the flash
 * window above it (the kernels' discarded over-reads land there).
 */
function addressSpace(ramBytes: number): Arena {
  const arena = new Arena(ramBytes);
  arena.mapFlash(new Uint8Array(256));
  return arena;
}

interface LayerLayout {
  countBytes: 1 | 2 | 4;
  entryBytes: 2 | 4;
  /** Codebook size; 0 for one f32 per entry. */
  table: number;
}

/**
 * An image layer written into the arena (its sections where an image has
 * them, in RAM here): `rows` x `units`, each weight kept with probability
 * `density`, values from a codebook or one per entry.
 */
function imageLayerIn(arena: Arena, rows: number, units: number, outputs: number, density: number, layout: LayerLayout, random: () => number) {
  const colBits = Math.max(1, units <= 1 ? 0 : 32 - Math.clz32(units - 1));
  const counts = new Array<number>(rows).fill(0);
  const packed: number[] = [];
  const perEntry: number[] = [];
  const table = Float32Array.from({ length: layout.table }, () => (random() < 0.1 ? 0 : (random() * 2 - 1) * 2));
  for (let r = 0; r < rows; r++) {
    for (let u = 0; u < units; u++) {
      if (random() >= density) continue;
      counts[r]!++;
      if (layout.table > 0) packed.push(u + Math.floor(random() * layout.table) * 2 ** colBits);
      else {
        packed.push(u);
        perEntry.push(random() < 0.05 ? 0 : (random() * 2 - 1) * 2);
      }
    }
  }
  const n = packed.length;
  const place = (bytes: number) => arena.allocate(Math.max(4, bytes), 'test layer section');
  const countsAt = place(rows * layout.countBytes);
  const entriesAt = place(n * layout.entryBytes);
  const valuesAt = place((layout.table > 0 ? layout.table : n) * 4);
  const biasAt = place(outputs * 4);
  const countView =
    layout.countBytes === 1 ? arena.uint8(countsAt, rows) : layout.countBytes === 2 ? arena.uint16(countsAt, rows) : arena.uint32(countsAt, rows);
  countView.set(counts);
  const entries = layout.entryBytes === 2 ? arena.uint16(entriesAt, n) : arena.uint32(entriesAt, n);
  entries.set(packed);
  const values = arena.float32(valuesAt, layout.table > 0 ? layout.table : n);
  values.set(layout.table > 0 ? table : perEntry);
  const bias = arena.float32(biasAt, outputs);
  for (let i = 0; i < outputs; i++) bias[i] = random() < 0.2 ? 0 : random() * 2 - 1;
  const layer: ImageLayer = {
    inputs: rows,
    units,
    entryCount: n,
    counts: countView,
    entries,
    colBits,
    table: layout.table > 0 ? values : null,
    values: layout.table > 0 ? null : values,
    bias,
  };
  return { layer, at: layerAddresses(layer, new Uint8Array(arena.buffer), 0) };
}

interface ConvCase {
  height: number;
  width: number;
  channels: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  padding: Padding;
  depthwise: boolean;
  units: number;
  density: number;
  zeros: number;
  activation: 'linear' | 'relu' | 'relu6' | 'tanh';
  layout: LayerLayout;
  wild: boolean;
  seed: number;
}

const convCase: fc.Arbitrary<ConvCase> = fc
  .record({
    height: fc.integer({ min: 1, max: 14 }),
    width: fc.oneof(fc.integer({ min: 1, max: 14 }), fc.integer({ min: 15, max: 40 })),
    channels: fc.integer({ min: 1, max: 5 }),
    kh: fc.integer({ min: 1, max: 4 }),
    kw: fc.integer({ min: 1, max: 4 }),
    sh: fc.integer({ min: 1, max: 3 }),
    sw: fc.integer({ min: 1, max: 3 }),
    padding: fc.constantFrom<Padding>('valid', 'same'),
    depthwise: fc.boolean(),
    units: fc.integer({ min: 1, max: 20 }),
    density: fc.constantFrom(0.1, 0.5, 1),
    zeros: fc.constantFrom(0, 0.5, 0.9, 1),
    activation: fc.constantFrom('linear', 'relu', 'relu6', 'tanh'),
    layout: fc.record({
      countBytes: fc.constantFrom<1 | 2 | 4>(1, 2, 4),
      entryBytes: fc.constantFrom<2 | 4>(2, 4),
      table: fc.constantFrom(0, 1, 8, 16),
    }),
    wild: fc.boolean(),
    seed: fc.integer(),
  })
  .filter((c) => c.padding === 'same' || (c.height >= c.kh && c.width >= c.kw))
  .map((c) => ({ ...c, units: c.depthwise ? 1 + (c.units % 3) : c.units }))
  // 16-bit entries hold the column and the codebook index together.
  .filter((c) => c.layout.entryBytes === 4 || Math.max(1, 32 - Math.clz32(c.units - 1)) + (c.layout.table > 1 ? 32 - Math.clz32(c.layout.table - 1) : 0) <= 16);

function describe(c: ConvCase): string {
  return JSON.stringify(c);
}

test('conv: the wasm kernel equals convImageLayer bit for bit (shapes, strides, paddings, depthwise, layouts, sparse and ±0 inputs, extents, decoding)', () => {
  fc.assert(
    fc.property(convCase, fc.boolean(), fc.boolean(), (c, trim, decode) => {
      const random = generator(c.seed);
      const shape: MapShape = { height: c.height, width: c.width, channels: c.channels };
      const params: WindowParams = { window: [c.kh, c.kw], strides: [c.sh, c.sw], padding: c.padding };
      const outC = c.depthwise ? c.channels * c.units : c.units;
      const out = windowOutput(shape, params, outC);
      const inCells = c.height * c.width;
      const outCells = out.height * out.width;
      const arena = addressSpace(256 * 1024);
      const { layer, at } = imageLayerIn(arena, c.kh * c.kw * c.channels, c.units, outC, c.density, c.layout, random);
      const input = randomMap(inCells * c.channels, random, c.zeros, c.wild);

      const expected = new Float32Array(outCells * outC);
      convImageLayer(layer, input, shape, params, c.depthwise, expected);
      applyActivation(c.activation, expected);

      const inAt = arena.allocate(input.length * 4, 'input');
      arena.float32(inAt, input.length).set(toPlanar(input, inCells, c.channels));
      // Sentinels around the output and its slack: nothing outside them may change.
      const guard = 64;
      const outAt = arena.allocate(guard + expected.length * 4 + CONV_OUTPUT_SLACK + guard, 'output') + guard;
      const around = arena.uint8(outAt - guard, guard + expected.length * 4 + CONV_OUTPUT_SLACK + guard);
      around.fill(0xa5);
      const kernels = convImageKernelsFor(arena.memory);
      const geometry = convGeometry(shape, params, c.units, c.depthwise);
      const code = activationCode(c.activation);
      // `trim`: runs trimmed to the input rows' nonzero spans (rowExtents), checked against a scan of the rows
      const extents = trim ? arena.allocate(rowExtentsBytes(geometry), 'extents') : -1;
      // `decode`: the entries read decoded (decodeEntries) instead of in place
      const decoded = decode ? { at: arena.allocate(Math.max(4, decodedEntriesBytes(layer)), 'decoded'), entries: layer.entryCount } : null;
      convImageLayerWasm(kernels, at, geometry, inAt, outAt, code, true, extents, decoded);
      if (trim) {
        const spans = arena.int32(extents, rowExtentsBytes(geometry) / 4);
        const rows = arena.float32(inAt, input.length);
        for (let r = 0; r < geometry.inC * geometry.height; r++) {
          const row = Array.from(rows.subarray(r * geometry.width, (r + 1) * geometry.width), (v) => v !== 0);
          const c0 = row.indexOf(true);
          const span = c0 < 0 ? [0, 0] : [c0, row.lastIndexOf(true) + 1];
          assert.equal([spans[2 * r], spans[2 * r + 1]], span, `${describe(c)}: row ${r}'s extent`);
        }
      }
      const planar = arena.float32(outAt, expected.length);
      if (code < 0) applyActivation(c.activation, planar);
      assertSameBits(fromPlanar(planar, outCells, outC), expected, describe(c));
      for (let i = 0; i < guard; i++) assert.is(around[i], 0xa5, `${describe(c)}: byte ${guard - i} before the output`);
      for (let i = around.length - guard; i < around.length; i++) assert.is(around[i], 0xa5, `${describe(c)}: a byte past the output's slack`);
    }),
    { numRuns: RUNS },
  );
});

test('dense depthwise (output-stationary) equals convImageLayer bit for bit, storing the map and nothing past it', () => {
  fc.assert(
    fc.property(
      // dense depthwise layers with strides across 1 or 2 (the others keep the row kernel)
      convCase.map((c) => ({ ...c, depthwise: true, density: 1, sw: 1 + (c.sw % 2), units: 1 + (c.units % 3) })),
      fc.boolean(),
      (c, low) => {
        const random = generator(c.seed);
        const shape: MapShape = { height: c.height, width: c.width, channels: c.channels };
        const params: WindowParams = { window: [c.kh, c.kw], strides: [c.sh, c.sw], padding: c.padding };
        const outC = c.channels * c.units;
        const out = windowOutput(shape, params, outC);
        const inCells = c.height * c.width;
        const outCells = out.height * out.width;
        const input = randomMap(inCells * c.channels, random, c.zeros, c.wild);
        const geometry = convGeometry(shape, params, c.units, true);
        // `low`: the input map as near address 0 as the kernel allows (its loads left of a row reach down to 0).
        const arena = addressSpace(256 * 1024);
        const below = low ? geometry.pl * 4 : 64;
        const inAt = arena.allocate(below + input.length * 4, 'input') + below;
        assert.ok(!low || inAt === geometry.pl * 4, 'the input sits at pl * 4');
        arena.float32(inAt, input.length).set(toPlanar(input, inCells, c.channels));
        const { layer, at } = imageLayerIn(arena, c.kh * c.kw * c.channels, c.units, outC, 1, c.layout, random);
        assert.ok(denseRows(layer) && depthwiseDenseFits(layer, geometry, inAt), describe(c));
        assert.not.ok(depthwiseDenseFits(layer, geometry, geometry.pl * 4 - 1), 'an input nearer address 0 does not fit');

        const expected = new Float32Array(outCells * outC);
        convImageLayer(layer, input, shape, params, true, expected);
        applyActivation(c.activation, expected);

        const weights = arena.allocate(Math.max(4, denseWeightBytes(layer)), 'weights');
        const guard = 64;
        const outAt = arena.allocate(guard + expected.length * 4 + guard, 'output') + guard;
        const around = arena.uint8(outAt - guard, guard + expected.length * 4 + guard);
        around.fill(0xa5);
        const code = activationCode(c.activation);
        depthwiseDenseWasm(convImageKernelsFor(arena.memory), at, geometry, layer.entryCount, inAt, outAt, code, weights);
        const planar = arena.float32(outAt, expected.length);
        if (code < 0) applyActivation(c.activation, planar);
        assertSameBits(fromPlanar(planar, outCells, outC), expected, describe(c));
        for (let i = 0; i < guard; i++) assert.is(around[i], 0xa5, `${describe(c)}: byte ${guard - i} before the output`);
        for (let i = around.length - guard; i < around.length; i++) assert.is(around[i], 0xa5, `${describe(c)}: a byte past the output`);
      },
    ),
    { numRuns: RUNS },
  );
});

test('sparse conv (entry lists, output-stationary) equals convImageLayer bit for bit, storing the map and nothing past it', () => {
  fc.assert(
    fc.property(
      // Conv2D layers that convItemsFits: no padding reaching a cell, strides across 1 or 2, several input channels, windows above 1x1
      convCase
        .map((c) => ({ ...c, depthwise: false, padding: 'valid' as Padding, sw: 1 + (c.sw % 2), channels: 2 + (c.channels % 4) }))
        .filter((c) => c.height >= c.kh && c.width >= c.kw && c.kh * c.kw > 1),
      (c) => {
        const random = generator(c.seed);
        const shape: MapShape = { height: c.height, width: c.width, channels: c.channels };
        const params: WindowParams = { window: [c.kh, c.kw], strides: [c.sh, c.sw], padding: c.padding };
        const out = windowOutput(shape, params, c.units);
        const inCells = c.height * c.width;
        const outCells = out.height * out.width;
        const geometry = convGeometry(shape, params, c.units, false);
        assert.ok(convItemsFits(geometry), describe(c));
        const arena = addressSpace(256 * 1024);
        const { layer, at } = imageLayerIn(arena, c.kh * c.kw * c.channels, c.units, c.units, c.density, c.layout, random);
        const input = randomMap(inCells * c.channels, random, c.zeros, c.wild);
        const expected = new Float32Array(outCells * c.units);
        convImageLayer(layer, input, shape, params, false, expected);
        applyActivation(c.activation, expected);

        const inAt = arena.allocate(input.length * 4, 'input');
        arena.float32(inAt, input.length).set(toPlanar(input, inCells, c.channels));
        // The lists' buffer is exactly its size: a write past it lands in the guard.
        const guard = 64;
        const listsAt = arena.allocate(convItemsBytes(layer, geometry) + guard, 'lists');
        const listsGuard = arena.uint8(listsAt + convItemsBytes(layer, geometry), guard);
        listsGuard.fill(0x5a);
        const outAt = arena.allocate(guard + expected.length * 4 + guard, 'output') + guard;
        const around = arena.uint8(outAt - guard, guard + expected.length * 4 + guard);
        around.fill(0xa5);
        const code = activationCode(c.activation);
        convItemsWasm(convImageKernelsFor(arena.memory), at, geometry, layer.inputs, inAt, outAt, code, listsAt);
        const planar = arena.float32(outAt, expected.length);
        if (code < 0) applyActivation(c.activation, planar);
        assertSameBits(fromPlanar(planar, outCells, c.units), expected, describe(c));
        for (let i = 0; i < guard; i++) assert.is(around[i], 0xa5, `${describe(c)}: byte ${guard - i} before the output`);
        for (let i = around.length - guard; i < around.length; i++) assert.is(around[i], 0xa5, `${describe(c)}: a byte past the output`);
        assert.ok(
          listsGuard.every((b) => b === 0x5a),
          `${describe(c)}: a byte past the lists`,
        );
      },
    ),
    { numRuns: RUNS },
  );
});

test("a 2x2 pool that finishes a convolution's sums equals the convolution, its activation, then the pool", () => {
  fc.assert(
    fc.property(
      convCase
        .map((c) => ({ ...c, activation: c.activation === 'tanh' ? ('relu' as const) : c.activation }))
        .filter((c) => c.padding === 'valid' || c.kh * c.kw === 1),
      fc.integer({ min: 1, max: 3 }),
      fc.constantFrom<'max' | 'avg'>('max', 'avg'),
      fc.boolean(),
      (c, poolRows, kind, planar) => {
        const random = generator(c.seed);
        const shape: MapShape = { height: c.height, width: c.width, channels: c.channels };
        const params: WindowParams = { window: [c.kh, c.kw], strides: [c.sh, c.sw], padding: c.padding };
        const outC = c.depthwise ? c.channels * c.units : c.units;
        const convOut = windowOutput(shape, params, outC);
        const pool: WindowParams = { window: [poolRows, 2], strides: [1 + (c.seed & 1), 2], padding: 'valid' };
        if (convOut.height < poolRows || convOut.width < 2 || !poolTakesPairs(convOut, pool)) return;
        const poolOut = windowOutput(convOut, pool, outC);
        const arena = addressSpace(256 * 1024);
        const { layer, at } = imageLayerIn(arena, c.kh * c.kw * c.channels, c.units, outC, c.density, c.layout, random);
        const input = randomMap(c.height * c.width * c.channels, random, c.zeros, c.wild);
        const sums = new Float32Array(convOut.height * convOut.width * outC);
        convImageLayer(layer, input, shape, params, c.depthwise, sums);
        applyActivation(c.activation, sums);
        const expected = new Float32Array(poolOut.height * poolOut.width * outC);
        (kind === 'max' ? maxPool2d : avgPool2d)(sums, convOut, pool, expected);

        const inAt = arena.allocate(input.length * 4, 'input');
        arena.float32(inAt, input.length).set(toPlanar(input, c.height * c.width, c.channels));
        const mapAt = arena.allocate(sums.length * 4 + CONV_OUTPUT_SLACK, 'sums');
        const outAt = arena.allocate(expected.length * 4, 'pooled');
        const kernels = convImageKernelsFor(arena.memory);
        const code = activationCode(c.activation);
        convImageLayerWasm(kernels, at, convGeometry(shape, params, c.units, c.depthwise), inAt, mapAt, code, false);
        poolWasm(kernels, kind, convOut, pool, mapAt, outAt, planar, { bias: at.bias, activation: code });
        const got = arena.float32(outAt, expected.length);
        const cells = poolOut.height * poolOut.width;
        assertSameBits(planar ? fromPlanar(got, cells, outC) : got.slice(), expected, `${describe(c)} ${kind} ${poolRows}`);
      },
    ),
    { numRuns: RUNS },
  );
});

test('a one-channel conv from its nonzero pixels (NHWC sums) and the pool that finishes them equal the reference bit for bit', () => {
  fc.assert(
    fc.property(
      // one input channel, output channels a multiple of 4; a 3x3 window at stride 1 with 8 channels half the time (its unrolled path)
      convCase.map((c) => ({
        ...c,
        depthwise: false,
        channels: 1,
        activation: c.activation === 'tanh' ? ('relu' as const) : c.activation,
        ...(c.seed & 2 ? { kh: 3, kw: 3, sh: 1, sw: 1, units: 8, height: c.height + 2, width: c.width + 2 } : { units: 4 * (1 + (c.units % 4)) }),
      })),
      fc.record({
        kh: fc.integer({ min: 1, max: 3 }),
        kw: fc.integer({ min: 1, max: 3 }),
        sh: fc.integer({ min: 1, max: 3 }),
        sw: fc.integer({ min: 1, max: 3 }),
      }),
      fc.constantFrom<'max' | 'avg'>('max', 'avg'),
      fc.boolean(),
      (c, p, kind, planar) => {
        const random = generator(c.seed);
        const shape: MapShape = { height: c.height, width: c.width, channels: 1 };
        const params: WindowParams = { window: [c.kh, c.kw], strides: [c.sh, c.sw], padding: c.padding };
        const outC = c.units;
        const convOut = windowOutput(shape, params, outC);
        const pool: WindowParams = { window: [p.kh, p.kw], strides: [p.sh, p.sw], padding: 'valid' };
        if (convOut.height < p.kh || convOut.width < p.kw) return;
        const geometry = convGeometry(shape, params, outC, false);
        assert.ok(convPixelsFits(geometry, convOut, pool), describe(c));
        const poolOut = windowOutput(convOut, pool, outC);
        const arena = addressSpace(256 * 1024);
        const { layer, at } = imageLayerIn(arena, c.kh * c.kw, outC, outC, c.density, c.layout, random);
        const input = randomMap(c.height * c.width, random, c.zeros, c.wild);
        const sums = new Float32Array(convOut.height * convOut.width * outC);
        convImageLayer(layer, input, shape, params, false, sums);
        applyActivation(c.activation, sums);
        const expected = new Float32Array(poolOut.height * poolOut.width * outC);
        (kind === 'max' ? maxPool2d : avgPool2d)(sums, convOut, pool, expected);

        const inAt = arena.allocate(input.length * 4, 'input');
        arena.float32(inAt, input.length).set(input);
        // Sentinels around the sums, the taps and the pooled map: nothing outside them may change.
        const guard = 64;
        const guarded = (bytes: number, label: string) => {
          const at = arena.allocate(guard + bytes + guard, label) + guard;
          arena.uint8(at - guard, guard + bytes + guard).fill(0xa5);
          return at;
        };
        const untouched = (at: number, bytes: number, label: string) => {
          const around = arena.uint8(at - guard, guard + bytes + guard);
          for (let i = 0; i < guard; i++) assert.is(around[i], 0xa5, `${describe(c)}: byte ${guard - i} before the ${label}`);
          for (let i = around.length - guard; i < around.length; i++) assert.is(around[i], 0xa5, `${describe(c)}: a byte past the ${label}`);
        };
        const tapsAt = guarded(convTapsBytes(geometry), 'taps');
        const mapAt = guarded(sums.length * 4, 'sums');
        const outAt = guarded(expected.length * 4, 'pooled');
        const kernels = convImageKernelsFor(arena.memory);
        const code = activationCode(c.activation);
        convPixelsWasm(kernels, at, geometry, inAt, mapAt, tapsAt);
        poolNhwcWasm(kernels, kind, convOut, pool, mapAt, outAt, planar, { bias: at.bias, activation: code });
        const got = arena.float32(outAt, expected.length);
        const cells = poolOut.height * poolOut.width;
        assertSameBits(planar ? fromPlanar(got, cells, outC) : got.slice(), expected, `${describe(c)} ${kind} ${JSON.stringify(p)}`);
        untouched(tapsAt, convTapsBytes(geometry), 'taps');
        untouched(mapAt, sums.length * 4, 'sums');
        untouched(outAt, expected.length * 4, 'pooled map');
      },
    ),
    { numRuns: RUNS },
  );
});

test('a one-channel conv scattered from its rows’ spans, band by band, finished into a planar map equals the reference bit for bit', () => {
  fc.assert(
    fc.property(
      // one input channel; output channels a multiple of 4, 8 or not, past 16 (four vectors a step) or not
      convCase.map((c) => ({
        ...c,
        depthwise: false,
        channels: 1,
        activation: c.activation === 'tanh' ? ('relu' as const) : c.activation,
        units: [4, 8, 12, 16, 20, 32, 48][c.units % 7]!,
      })),
      fc.integer({ min: 1, max: 20 }),
      (c, rowsWanted) => {
        const random = generator(c.seed);
        const shape: MapShape = { height: c.height, width: c.width, channels: 1 };
        const params: WindowParams = { window: [c.kh, c.kw], strides: [c.sh, c.sw], padding: c.padding };
        const outC = c.units;
        const convOut = windowOutput(shape, params, outC);
        const geometry = convGeometry(shape, params, outC, false);
        assert.ok(convPixelsTakes(geometry), describe(c));
        const bandRows = Math.min(rowsWanted, convOut.height);
        // 48 channels over a 14 x 40 map, band and map: room for both
        const arena = addressSpace(1024 * 1024);
        const { layer, at } = imageLayerIn(arena, c.kh * c.kw, outC, outC, c.density, c.layout, random);
        const input = randomMap(c.height * c.width, random, c.zeros, c.wild);
        const cells = convOut.height * convOut.width;
        const expected = new Float32Array(cells * outC);
        convImageLayer(layer, input, shape, params, false, expected);
        applyActivation(c.activation, expected);

        const inAt = arena.allocate(input.length * 4, 'input');
        arena.float32(inAt, input.length).set(input);
        // Sentinels around the taps, the band and the map: nothing outside them may change.
        const guard = 64;
        const guarded = (bytes: number, label: string) => {
          const at = arena.allocate(guard + bytes + guard, label) + guard;
          arena.uint8(at - guard, guard + bytes + guard).fill(0xa5);
          return at;
        };
        const untouched = (at: number, bytes: number, label: string) => {
          const around = arena.uint8(at - guard, guard + bytes + guard);
          for (let i = 0; i < guard; i++) assert.is(around[i], 0xa5, `${describe(c)}: byte ${guard - i} before the ${label}`);
          for (let i = around.length - guard; i < around.length; i++) assert.is(around[i], 0xa5, `${describe(c)}: a byte past the ${label}`);
        };
        const tapsAt = guarded(convTapsBytes(geometry), 'taps');
        const bandAt = guarded(convBandBytes(geometry, bandRows), 'band');
        const outAt = guarded(expected.length * 4, 'map');
        const kernels = convImageKernelsFor(arena.memory);
        convPixelsPlanarWasm(kernels, at, geometry, inAt, outAt, tapsAt, bandAt, bandRows, activationCode(c.activation));
        const label = `${describe(c)} band ${bandRows}`;
        assertSameBits(fromPlanar(arena.float32(outAt, expected.length), cells, outC), expected, label);
        untouched(tapsAt, convTapsBytes(geometry), 'taps');
        untouched(bandAt, convBandBytes(geometry, bandRows), 'band');
        untouched(outAt, expected.length * 4, 'map');
      },
    ),
    { numRuns: RUNS },
  );
});

test('denseRows: only a layer whose every row holds every column in order', () => {
  const arena = addressSpace(64 * 1024);
  const { layer } = imageLayerIn(arena, 4, 3, 3, 1, { countBytes: 1, entryBytes: 2, table: 4 }, generator(5));
  assert.ok(denseRows(layer));
  const sparse = imageLayerIn(arena, 40, 3, 3, 0.5, { countBytes: 1, entryBytes: 2, table: 4 }, generator(6)).layer;
  assert.not.ok(denseRows(sparse));
});

test("conv: NaN inputs, zero weights and -0 products give the reference's bits", () => {
  // A 1x1 conv over a 1x5 map: inputs 0, -0, NaN, 1, -1; weights 0 and 2 (-1 * 0 is a -0 product, added to a +0 sum).
  const arena = addressSpace(64 * 1024);
  const { layer, at } = imageLayerIn(arena, 1, 2, 2, 1, { countBytes: 1, entryBytes: 2, table: 0 }, generator(1));
  layer.values!.set([0, 2]);
  layer.bias.set([0, 0]);
  const input = Float32Array.from([0, -0, Number.NaN, 1, -1]);
  const shape = { height: 1, width: 5, channels: 1 };
  const params: WindowParams = { window: [1, 1], strides: [1, 1], padding: 'valid' };
  const expected = new Float32Array(10);
  convImageLayer(layer, input, shape, params, false, expected);
  const inAt = arena.allocate(20, 'input');
  arena.float32(inAt, 5).set(input);
  const outAt = arena.allocate(40 + CONV_OUTPUT_SLACK, 'output');
  convImageLayerWasm(convImageKernelsFor(arena.memory), at, convGeometry(shape, params, 2, false), inAt, outAt, 0);
  assertSameBits(fromPlanar(arena.float32(outAt, 10), 5, 2), expected, '1x5');
  assert.ok(Number.isNaN(expected[4]!) && Object.is(expected[8], 0), 'NaN propagates; +0 + -0 is +0');
});

test('finiteWeights: a layer with an infinite or NaN weight is not run by the wasm convolution', () => {
  const arena = addressSpace(64 * 1024);
  const { layer } = imageLayerIn(arena, 4, 3, 3, 1, { countBytes: 1, entryBytes: 2, table: 4 }, generator(2));
  assert.ok(finiteWeights(layer));
  layer.table![2] = Number.POSITIVE_INFINITY;
  assert.not.ok(finiteWeights(layer));
  layer.table![2] = Number.NaN;
  assert.not.ok(finiteWeights(layer));
});

test('pool: max and average pooling equal conv.ts bit for bit, planar or NHWC output', () => {
  fc.assert(
    fc.property(
      fc
        .record({
          height: fc.integer({ min: 1, max: 14 }),
          width: fc.oneof(fc.integer({ min: 1, max: 14 }), fc.integer({ min: 15, max: 40 })),
          channels: fc.integer({ min: 1, max: 5 }),
          kh: fc.integer({ min: 1, max: 4 }),
          kw: fc.integer({ min: 1, max: 4 }),
          sh: fc.integer({ min: 1, max: 3 }),
          sw: fc.integer({ min: 1, max: 3 }),
          padding: fc.constantFrom<Padding>('valid', 'same'),
          kind: fc.constantFrom<'max' | 'avg'>('max', 'avg'),
          planar: fc.boolean(),
          zeros: fc.constantFrom(0, 0.5, 1),
          seed: fc.integer(),
        })
        .filter((c) => c.padding === 'same' || (c.height >= c.kh && c.width >= c.kw)),
      (c) => {
        const random = generator(c.seed);
        const shape: MapShape = { height: c.height, width: c.width, channels: c.channels };
        const params: WindowParams = { window: [c.kh, c.kw], strides: [c.sh, c.sw], padding: c.padding };
        const out = windowOutput(shape, params, c.channels);
        const cells = c.height * c.width;
        const outCells = out.height * out.width;
        const input = randomMap(cells * c.channels, random, c.zeros, true);
        const expected = new Float32Array(outCells * c.channels);
        (c.kind === 'max' ? maxPool2d : avgPool2d)(input, shape, params, expected);
        const arena = addressSpace(64 * 1024);
        const inAt = arena.allocate(input.length * 4, 'input');
        arena.float32(inAt, input.length).set(toPlanar(input, cells, c.channels));
        const outAt = arena.allocate(expected.length * 4, 'output');
        poolWasm(convImageKernelsFor(arena.memory), c.kind, shape, params, inAt, outAt, c.planar);
        const got = arena.float32(outAt, expected.length);
        assertSameBits(c.planar ? fromPlanar(got, outCells, c.channels) : got.slice(), expected, JSON.stringify(c));
      },
    ),
    { numRuns: RUNS },
  );
});

test('globalAvgPool and preprocess equal conv.ts and dense-reference.ts bit for bit', () => {
  fc.assert(
    fc.property(
      fc.oneof(fc.integer({ min: 1, max: 40 }), fc.constantFrom(4, 16, 36)),
      fc.integer({ min: 1, max: 10 }),
      fc.boolean(),
      fc.integer(),
      (cells, channels, planar, seed) => {
        const random = generator(seed);
        const arena = addressSpace(64 * 1024);
        const kernels = convImageKernelsFor(arena.memory);
        const map = randomMap(cells * channels, random, 0.4, true);
        const expected = new Float32Array(channels);
        globalAvgPool2d(map, { height: 1, width: cells, channels }, expected);
        const inAt = arena.allocate(map.length * 4, 'map');
        arena.float32(inAt, map.length).set(toPlanar(map, cells, channels));
        const outAt = arena.allocate(channels * 4, 'out');
        kernels.globalAvgPool(inAt, cells, channels, outAt, 0, -1);
        assertSameBits(arena.float32(outAt, channels).slice(), expected, `gap ${cells}x${channels}`);
        // finishing a convolution's sums: its bias and activation on each value first
        const bias = randomMap(channels + 3, random, 0.2, false);
        const biasAt = arena.allocate(bias.length * 4, 'bias');
        arena.float32(biasAt, bias.length).set(bias);
        for (const activation of ['linear', 'relu', 'relu6'] as const) {
          const finished = map.map((v, i) => Math.fround(v + bias[i % channels]!));
          applyActivation(activation, finished);
          globalAvgPool2d(finished, { height: 1, width: cells, channels }, expected);
          kernels.globalAvgPool(inAt, cells, channels, outAt, biasAt, activationCode(activation));
          assertSameBits(arena.float32(outAt, channels).slice(), expected, `gap ${cells}x${channels} finishing ${activation}`);
        }

        const raw = Uint8Array.from({ length: cells * channels }, () => Math.floor(random() * 256));
        const scale = Math.fround(random() < 0.5 ? 1 / 255 : random() * 4 - 2);
        const offset = Math.fround(random() < 0.5 ? 0 : random() - 0.5);
        const want = Float32Array.from(raw, (b) => preprocess(b, scale, offset));
        const rawAt = arena.allocate(raw.length, 'raw');
        arena.uint8(rawAt, raw.length).set(raw);
        const xAt = arena.allocate(raw.length * 4, 'x');
        kernels.preprocess(rawAt, xAt, cells, channels, scale, offset, planar ? 1 : 0);
        const x = arena.float32(xAt, raw.length).slice();
        assertSameBits(planar ? fromPlanar(x, cells, channels) : x, want, `preprocess ${cells}x${channels}`);
      },
    ),
    { numRuns: RUNS },
  );
});

/** The TypeScript image kernels over a whole model (graph-interpreter.ts before the wasm kernels): the logits the wasm must give. */
function referenceLogits(artifact: Artifact, image: { layers: ImageLayer[] }, raw: Uint8Array): Float32Array {
  const m = artifact.manifest;
  const shapes = layerShapes(
    m.preprocess.inputShape,
    m.layers,
    (t) => m.tensors[t]?.shape,
    (detail) => {
      throw new Error(detail);
    },
  );
  const mapOf = (shape: readonly number[]): MapShape => {
    const [height, width, channels] = featureMap(shape)!;
    return { height, width, channels };
  };
  let from = Float32Array.from(raw, (b) => preprocess(b, m.preprocess.scale, m.preprocess.offset));
  let w = 0;
  m.layers.forEach((layer, i) => {
    const out = new Float32Array(elementCount(shapes[i]!.output));
    if (layer.kind === 'max-pool2d') maxPool2d(from, mapOf(shapes[i]!.input), layer, out);
    else if (layer.kind === 'avg-pool2d') avgPool2d(from, mapOf(shapes[i]!.input), layer, out);
    else if (layer.kind === 'global-avg-pool2d') globalAvgPool2d(from, mapOf(shapes[i]!.input), out);
    else {
      const weighted = layer as WeightedLayer;
      const imageLayer = image.layers[w++]!;
      if (weighted.kind === 'dense') evalImageLayer(imageLayer, from, out);
      else convImageLayer(imageLayer, from, mapOf(shapes[i]!.input), weighted, weighted.kind === 'depthwise-conv2d', out);
      applyActivation(weighted.activation === 'softmax' ? 'linear' : weighted.activation, out);
    }
    from = out;
  });
  return from;
}

test('a whole model: the interpreter on the image gives the TypeScript image kernels’ logits bit for bit (every layer kind, two tiers)', () => {
  const samples = randomSamples(30, 144, 9);
  for (const held of [undefined, [0, 2]]) {
    for (const seed of [3, 4]) {
      const artifact = readArtifact(encodeArtifact(convModel({ seed }), held ? { heldIntervals: held } : {}));
      const built = prepareExecImage(artifact, new Arena(64 * 1024), 1 << 20);
      assert.ok(built.image, `${built.note}`);
      const arena = new Arena(64 * 1024);
      const interpreter = createInterpreter(artifact, arena, { image: built.image });
      for (let s = 0; s < 30; s++) {
        const raw = samples.subarray(s * 144, (s + 1) * 144);
        assertSameBits(interpreter.logits(raw).slice(), referenceLogits(artifact, built.image!, raw), `seed ${seed} tier ${held ?? 'full'} sample ${s}`);
      }
      assert.ok(arena.highWaterBytes() <= 64 * 1024);
    }
  }
});

test('a whole model whose first conv has 8 channels runs it from its nonzero pixels, logits bit for bit the TypeScript image kernels’', () => {
  // The fixture's chain with conv_1 widened to 8 output channels (a multiple of 4, as convPixelsFits asks), restored after.
  const saved = structuredClone(CONV_LAYERS);
  const widths: Record<string, { inputs?: number; units?: number }> = {
    conv_1: { units: 8 },
    pool_1: { inputs: 8, units: 8 },
    dw_1: { inputs: 8, units: 16 },
    pool_2: { inputs: 16, units: 16 },
    pw_1: { inputs: 16 },
  };
  try {
    for (const layer of CONV_LAYERS) Object.assign(layer, widths[layer.name] ?? {});
    const samples = randomSamples(30, 144, 9);
    for (const seed of [3, 4]) {
      const artifact = readArtifact(encodeArtifact(convModel({ seed })));
      const built = prepareExecImage(artifact, new Arena(64 * 1024), 1 << 20);
      assert.ok(built.image, `${built.note}`);
      const arena = new Arena(64 * 1024);
      const interpreter = createInterpreter(artifact, arena, { image: built.image });
      const plan = (interpreter as unknown as { plan: { buffers: Array<{ label: string }> } }).plan;
      assert.ok(
        plan.buffers.some((b) => b.label === 'taps conv_1'),
        'conv_1 runs from its pixels',
      );
      for (let s = 0; s < 30; s++) {
        const raw = samples.subarray(s * 144, (s + 1) * 144);
        assertSameBits(interpreter.logits(raw).slice(), referenceLogits(artifact, built.image!, raw), `seed ${seed} sample ${s}`);
      }
    }
  } finally {
    CONV_LAYERS.splice(0, CONV_LAYERS.length, ...saved);
  }
});

test('device-sim/kernels/gen/conv-image-wasm.ts is what wabt makes of conv-image.wat', async () => {
  const committed = readFileSync('device-sim/kernels/gen/conv-image-wasm.ts', 'utf8');
  assert.is(committed, await renderConvImageWasm(), 'run `npm run gen` and commit device-sim/kernels/gen/conv-image-wasm.ts');
});

test.run();
