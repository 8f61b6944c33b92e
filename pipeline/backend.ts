// Picks the fastest TF.js backend that really runs here: tfjs-node (native
// libtensorflow, an optional dependency that often fails to install), else
// WebAssembly with SIMD (about 4.7x the cpu backend for the paper's MLP on
// these machines), else the plain JavaScript cpu backend.
// WEIGHTGATE_BACKEND=wasm|cpu|tensorflow forces one (tests, comparisons).
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';

let selected: Promise<string> | null = null;

/**
 * Chooses the backend once, and makes sure it is the active one on every
 * call (other code in the same process may have switched TF.js to another
 * backend; results would then differ in the last float bits and a build would
 * no longer be reproducible). Returns 'tensorflow', 'wasm' or 'cpu'.
 */
export async function selectBackend(): Promise<string> {
  selected ??= chooseBackend();
  const name = await selected;
  if (tf.getBackend() !== name) {
    await tf.setBackend(name);
    await tf.ready();
  }
  return name;
}

async function chooseBackend(): Promise<string> {
  const forced = process.env.WEIGHTGATE_BACKEND;
  const order = forced ? [forced] : ['tensorflow', 'wasm', 'cpu'];
  for (const name of order) {
    if (await tryBackend(name)) return name;
  }
  await tf.setBackend('cpu');
  return 'cpu';
}

async function tryBackend(name: string): Promise<boolean> {
  try {
    if (name === 'tensorflow') {
      // A variable specifier: the package is optional and usually absent, so
      // neither tsc nor the bundler may require it.
      const nodeBinding = '@tensorflow/tfjs-node';
      await import(nodeBinding);
    }
    if (name === 'wasm') {
      // In Node the .wasm files are read from the package's dist folder.
      const require = createRequire(import.meta.url);
      setWasmPaths(dirname(require.resolve('@tensorflow/tfjs-backend-wasm')) + '/');
    }
    if (!(await tf.setBackend(name))) return false;
    await tf.ready();
    // Check it really computes before trusting it.
    const probe = tf.tidy(() => tf.matMul(tf.tensor2d([1, 2], [1, 2]), tf.tensor2d([3, 4], [2, 1])));
    const value = (await probe.data())[0];
    probe.dispose();
    return value === 11;
  } catch {
    return false;
  }
}
