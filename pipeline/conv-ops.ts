// Conv2D and DepthwiseConv2D for training on any TF.js backend. TF.js'
// WebAssembly backend (4.22) runs both convolutions forward and has
// Conv2DBackpropInput, MaxPoolGrad and AvgPoolGrad, but no
// Conv2DBackpropFilter, DepthwiseConv2dNativeBackpropFilter or
// DepthwiseConv2dNativeBackpropInput: tf.grad through tf.conv2d stops there
// ("Kernel 'Conv2DBackpropFilter' not registered for backend 'wasm'"). Where
// a backend lacks one, these ops keep the backend's forward kernel and give
// the gradients as a custom gradient made of forward convolutions, which
// wasm runs fast (XNNPACK):
//   filter   the padded input with batch and channels swapped, convolved
//            with dy as the filter (dilated by the strides)
//   input    dy spread to the strides and padded, correlated with the window
//            flipped (and, for Conv2D, its channels swapped)
// Conv2D takes the second one too: wasm's own Conv2DBackpropInput is 5-7x
// slower than a forward convolution on these shapes. The padding follows
// formats' geometry rule (outputLength, padBefore), TensorFlow's.
// test/pipeline/conv-ops.test.ts checks both against the cpu backend's
// native gradients.
import * as tf from '@tensorflow/tfjs';
import { outputLength, padBefore, type LayerKind, type Padding } from '../formats/index.ts';

/** The backward kernels training needs per layer kind (beyond a Dense chain's). */
export const TRAINING_KERNELS: Readonly<Partial<Record<LayerKind, readonly string[]>>> = {
  conv2d: ['Conv2DBackpropFilter', 'Conv2DBackpropInput'],
  'depthwise-conv2d': ['DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput'],
  'max-pool2d': ['MaxPoolGrad'],
  'avg-pool2d': ['AvgPoolGrad'],
};

/** The training kernels for these layer kinds (default: all) that the backend lacks. */
export function missingTrainingKernels(backend: string = tf.getBackend(), kinds?: readonly LayerKind[]): string[] {
  const wanted = new Set(kinds ?? (Object.keys(TRAINING_KERNELS) as LayerKind[]));
  const names = Object.entries(TRAINING_KERNELS).flatMap(([kind, list]) => (wanted.has(kind as LayerKind) ? [...list!] : []));
  return names.filter((name) => !tf.getKernel(name, backend));
}

/**
 * What a build says about the backend when training these layer kinds needs
 * a kernel it lacks; null when nothing is missing.
 */
export function substitutedKernelsNote(kinds: readonly LayerKind[], backend: string = tf.getBackend()): string | null {
  const missing = missingTrainingKernels(backend, kinds);
  return missing.length === 0
    ? null
    : `backend ${backend} has no ${missing.join(', ')}: the pipeline computes those gradients with forward convolutions (pipeline/conv-ops.ts)`;
}

const has = (kernel: string) => tf.getKernel(kernel, tf.getBackend()) !== undefined;

interface Geometry {
  n: number;
  c: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  oh: number;
  ow: number;
  /** Zero rows / columns before and after the input so every window lies inside. */
  pads: [[number, number], [number, number]];
  /** Padded height and width. */
  hp: number;
  wp: number;
}

function geometry(shape: readonly number[], kh: number, kw: number, strides: [number, number], padding: Padding): Geometry {
  const [n, h, w, c] = shape as [number, number, number, number];
  const [sh, sw] = strides;
  const oh = outputLength(h, kh, sh, padding);
  const ow = outputLength(w, kw, sw, padding);
  const top = padBefore(h, kh, sh, padding);
  const left = padBefore(w, kw, sw, padding);
  const bottom = Math.max((oh - 1) * sh + kh - h - top, 0);
  const right = Math.max((ow - 1) * sw + kw - w - left, 0);
  return {
    n,
    c,
    kh,
    kw,
    sh,
    sw,
    oh,
    ow,
    pads: [
      [top, bottom],
      [left, right],
    ],
    hp: h + top + bottom,
    wp: w + left + right,
  };
}

function padded(x: tf.Tensor4D, g: Geometry): tf.Tensor4D {
  const [[t, b], [l, r]] = g.pads;
  return t || b || l || r
    ? tf.pad(x, [
        [0, 0],
        [t, b],
        [l, r],
        [0, 0],
      ])
    : x;
}

/**
 * Conv2D's filter gradient as one convolution: dW[ky, kx, c, u] =
 * Σ_{n, oy, ox} xp[n, oy·s + ky, ox·s + kx, c] · dy[n, oy, ox, u] is the
 * padded input with batch and channels swapped ([c, hp, wp, n]) convolved
 * with dy as the filter ([oh, ow, n, u], dilated by the strides), whose
 * first kh x kw outputs are [c, kh, kw, u].
 */
function conv2dFilterGradient(x: tf.Tensor4D, dy: tf.Tensor4D, g: Geometry): tf.Tensor4D {
  const input = tf.transpose(padded(x, g), [3, 1, 2, 0]);
  const filter = tf.transpose(dy, [1, 2, 0, 3]);
  const all = tf.conv2d(input, filter, 1, 'valid', 'NHWC', [g.sh, g.sw]);
  const cropped = all.shape[1] === g.kh && all.shape[2] === g.kw ? all : tf.slice(all, [0, 0, 0, 0], [g.c, g.kh, g.kw, all.shape[3]]);
  return tf.transpose(cropped, [1, 2, 0, 3]);
}

/**
 * DepthwiseConv2D's filter gradient as one depthwise convolution: the padded
 * input laid out as one image of n·c channels ([1, hp, wp, n·c]) with dy as
 * the filter ([oh, ow, n·c, m], dilated by the strides); the first kh x kw
 * outputs [kh, kw, n, c, m] summed over n.
 */
function depthwiseFilterGradient(x: tf.Tensor4D, dy: tf.Tensor4D, g: Geometry, multiplier: number): tf.Tensor4D {
  const input = tf.reshape(tf.transpose(padded(x, g), [1, 2, 0, 3]), [1, g.hp, g.wp, g.n * g.c]) as tf.Tensor4D;
  const filter = tf.reshape(tf.transpose(dy, [1, 2, 0, 3]), [g.oh, g.ow, g.n * g.c, multiplier]) as tf.Tensor4D;
  const all = tf.depthwiseConv2d(input, filter, 1, 'valid', 'NHWC', [g.sh, g.sw]);
  const cropped = tf.slice(all, [0, 0, 0, 0], [1, g.kh, g.kw, g.n * g.c * multiplier]);
  return tf.sum(tf.reshape(cropped, [g.kh, g.kw, g.n, g.c, multiplier]), 2) as tf.Tensor4D;
}

/**
 * What the input gradient of a convolution reads: dy spread to the strides
 * (zeros between), padded by the window less one on each side and cropped
 * to the rows and columns whose windows land on input cells. A 'valid'
 * correlation of it with the window flipped gives dx.
 */
function spreadForInputGradient(dy: tf.Tensor4D, g: Geometry, h: number, wd: number): tf.Tensor4D {
  const units = dy.shape[3];
  let spread: tf.Tensor4D = dy;
  if (g.sh > 1 || g.sw > 1) {
    const holes = tf.pad(tf.reshape(dy, [g.n, g.oh, 1, g.ow, 1, units]), [
      [0, 0],
      [0, 0],
      [0, g.sh - 1],
      [0, 0],
      [0, g.sw - 1],
      [0, 0],
    ]);
    // Rows from (oh - 1)·sh + 1 on are zeros: the padding below adds what is needed.
    spread = tf.slice(
      tf.reshape(holes, [g.n, g.oh * g.sh, g.ow * g.sw, units]) as tf.Tensor4D,
      [0, 0, 0, 0],
      [g.n, (g.oh - 1) * g.sh + 1, (g.ow - 1) * g.sw + 1, units],
    );
  }
  const [spanH, spanW] = [spread.shape[1], spread.shape[2]];
  const [top, left] = [g.pads[0][0], g.pads[1][0]];
  // Row r of `full` is padded-input row r - (kh - 1); input row i is padded row top + i.
  const full = tf.pad(spread, [
    [0, 0],
    [g.kh - 1, Math.max(0, top + h - spanH)],
    [g.kw - 1, Math.max(0, left + wd - spanW)],
    [0, 0],
  ]);
  return tf.slice(full, [0, top, left, 0], [g.n, h + g.kh - 1, wd + g.kw - 1, units]);
}

/** Conv2D's input gradient as one convolution: the spread dy with the window flipped and its channels swapped ([kh, kw, units, inputs]). */
function conv2dInputGradient(dy: tf.Tensor4D, w: tf.Tensor4D, g: Geometry, h: number, wd: number): tf.Tensor4D {
  const flipped = tf.transpose(g.kh === 1 && g.kw === 1 ? w : tf.reverse(w, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D;
  return tf.conv2d(spreadForInputGradient(dy, g, h, wd), flipped, 1, 'valid');
}

/** DepthwiseConv2D's input gradient as one depthwise convolution: one channel per (c, j) with the window flipped, then summed over j. */
function depthwiseInputGradient(dy: tf.Tensor4D, w: tf.Tensor4D, g: Geometry, h: number, wd: number): tf.Tensor4D {
  const m = w.shape[3];
  const flipped = tf.reshape(tf.reverse(w, [0, 1]), [g.kh, g.kw, g.c * m, 1]) as tf.Tensor4D;
  const dx = tf.depthwiseConv2d(spreadForInputGradient(dy, g, h, wd), flipped, 1, 'valid');
  return m === 1 ? dx : (tf.sum(tf.reshape(dx, [g.n, h, wd, g.c, m]), 4) as tf.Tensor4D);
}

/**
 * A custom-gradient op over (x, w), or over w alone when x is the model's
 * input (`xIsData`): no gradient is wanted for it, and skipping it saves the
 * first layer's backward pass over the input.
 */
function withGradient(
  x: tf.Tensor4D,
  w: tf.Tensor4D,
  xIsData: boolean,
  forward: (x: tf.Tensor4D, w: tf.Tensor4D) => tf.Tensor4D,
  backward: (dy: tf.Tensor4D, x: tf.Tensor4D, w: tf.Tensor4D, xIsData: boolean) => [tf.Tensor | null, tf.Tensor],
): tf.Tensor4D {
  if (xIsData) {
    const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
      const [wIn, save] = args as [tf.Tensor4D, tf.GradSaveFunc];
      save([wIn]);
      return {
        value: forward(x, wIn),
        gradFunc: (dy: tf.Tensor4D, saved: tf.Tensor[]) => [backward(dy, x, saved[0] as tf.Tensor4D, true)[1]],
      };
    });
    return op(w);
  }
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [xIn, wIn, save] = args as [tf.Tensor4D, tf.Tensor4D, tf.GradSaveFunc];
    save([xIn, wIn]);
    return {
      value: forward(xIn, wIn),
      gradFunc: (dy: tf.Tensor4D, saved: tf.Tensor[]) => {
        const [dx, dw] = backward(dy, saved[0] as tf.Tensor4D, saved[1] as tf.Tensor4D, false);
        return [dx!, dw];
      },
    };
  });
  return op(x, w);
}

/**
 * tf.conv2d, with this file's gradients when the backend has no
 * Conv2DBackpropFilter. `xIsData`: x is the model's input (no gradient for it).
 */
export function conv2d(x: tf.Tensor4D, w: tf.Tensor4D, strides: [number, number], padding: Padding, xIsData = false): tf.Tensor4D {
  return has('Conv2DBackpropFilter') ? tf.conv2d(x, w, strides, padding) : conv2dCustomGradient(x, w, strides, padding, xIsData);
}

/** tf.conv2d with this file's gradient on any backend. */
export function conv2dCustomGradient(x: tf.Tensor4D, w: tf.Tensor4D, strides: [number, number], padding: Padding, xIsData = false): tf.Tensor4D {
  const [kh, kw] = w.shape;
  return withGradient(
    x,
    w,
    xIsData,
    (xs, ws) => tf.conv2d(xs, ws, strides, padding),
    (dy, xs, ws, noDx) => {
      const g = geometry(xs.shape, kh, kw, strides, padding);
      return [noDx ? null : conv2dInputGradient(dy, ws, g, xs.shape[1], xs.shape[2]), conv2dFilterGradient(xs, dy, g)];
    },
  );
}

/** tf.depthwiseConv2d, with both gradients made of other kernels when the backend lacks the native ones. */
export function depthwiseConv2d(x: tf.Tensor4D, w: tf.Tensor4D, strides: [number, number], padding: Padding, xIsData = false): tf.Tensor4D {
  return has('DepthwiseConv2dNativeBackpropFilter') && has('DepthwiseConv2dNativeBackpropInput')
    ? tf.depthwiseConv2d(x, w, strides, padding)
    : depthwiseConv2dCustomGradient(x, w, strides, padding, xIsData);
}

/** tf.depthwiseConv2d with this file's gradients on any backend. */
export function depthwiseConv2dCustomGradient(x: tf.Tensor4D, w: tf.Tensor4D, strides: [number, number], padding: Padding, xIsData = false): tf.Tensor4D {
  const [kh, kw, , multiplier] = w.shape;
  return withGradient(
    x,
    w,
    xIsData,
    (xs, ws) => tf.depthwiseConv2d(xs, ws, strides, padding),
    (dy, xs, ws, noDx) => {
      const g = geometry(xs.shape, kh, kw, strides, padding);
      const dw = depthwiseFilterGradient(xs, dy, g, multiplier);
      return [noDx ? null : depthwiseInputGradient(dy, ws, g, xs.shape[1], xs.shape[2]), dw];
    },
  );
}
