// TF.js Layers models made in a test (tf.sequential / tf.model) saved the
// way the loader meets them: model.json + weights.bin, with the topology in
// either layout pipeline/model-json.ts reads.
import * as tf from '@tensorflow/tfjs';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** How model.json nests its topology: as TF.js' own model.save writes it, or as tensorflowjs_converter writes a Keras model. */
export type TopologyLayout = 'tfjs-native' | 'keras-converter';

/**
 * Saves a TF.js Layers model (tf.sequential / tf.model) into `dir` as
 * model.json + weights.bin through model.save(tf.io.withSaveHandler(...)),
 * with its topology in either layout; returns the model.json path.
 */
export async function saveLayersModel(model: tf.LayersModel, dir: string, layout: TopologyLayout): Promise<string> {
  const path = join(dir, 'model.json');
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const topology = artifacts.modelTopology as { keras_version?: string; backend?: string };
      const modelTopology = layout === 'tfjs-native' ? topology : { keras_version: '2.13.1', backend: 'tensorflow', model_config: topology };
      const weightData = artifacts.weightData;
      const bytes = Array.isArray(weightData) ? tf.io.concatenateArrayBuffers(weightData) : (weightData ?? new ArrayBuffer(0));
      writeFileSync(
        path,
        JSON.stringify({
          format: 'layers-model',
          generatedBy: 'test',
          modelTopology,
          weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
        }),
      );
      writeFileSync(join(dir, 'weights.bin'), new Uint8Array(bytes));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return path;
}
