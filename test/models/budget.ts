// The three real TF.js models of ../shared/models/, trained by others, built
// at default flags: each full tier stays within the default accuracy budget
// (1 point below the model as loaded, on validation). Minutes of training,
// so this is its own suite (`npm run test:models`, which CI runs); `npm test`
// leaves test/models/ out. One file per model, so they run in parallel.
import { test as uvuTest } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runBuild } from '../../pipeline/build.ts';
import { SHARED_MODELS, SHARED_MODELS_FOLDER } from '../shared-models.ts';
import { requiring, type Requirement } from '../requirements.ts';
import { tempDir } from '../pipeline/helpers.ts';

const FASHION_DIR = '/usr/share/datasets/fashion-mnist';
const FASHION: Requirement = { what: FASHION_DIR, how: 'apt-get install dataset-fashion-mnist', met: existsSync(FASHION_DIR) };

const MODELS: Array<{ name: string; data: string; needs: Requirement[] }> = [
  { name: 'nnv-mnist-dense', data: 'mnist', needs: [] },
  { name: 'digitsjs-mnist-mlp', data: 'mnist', needs: [] },
  { name: 'nnv-fashion-mnist-dense', data: `idx:${FASHION_DIR}`, needs: [FASHION] },
];

/** Registers and runs the budget test of one of MODELS. */
export function budgetTest(name: string): void {
  const model = MODELS.find((m) => m.name === name)!;
  requiring(
    uvuTest,
    SHARED_MODELS_FOLDER,
    ...model.needs,
  )(`${model.name} at default flags: the full tier within 1 point of the model as loaded`, async () => {
    const { report } = await runBuild({ modelPath: join(SHARED_MODELS, model.name, 'model.json'), data: model.data, outDir: tempDir() });
    const full = report.tiers[report.tiers.length - 1];
    const drop = (report.inputValidationAccuracy! - full.validationAccuracy) * 100;
    process.stdout.write(
      `${model.name}: input ${(report.inputValidationAccuracy! * 100).toFixed(2)} %, full tier ${drop.toFixed(2)} points below, ${full.artifactBytes} B, ${report.compressionRatio.toFixed(1)}x, chose ${report.search?.chosen.sparsity} / ${report.search?.chosen.bits}-bit\n`,
    );
    assert.is(report.maxDrop, 1);
    assert.ok(report.search?.met, 'the search met the budget');
    assert.ok(drop <= 1 + 1e-9, `${drop} points below`);
    assert.ok(report.compressionRatio > 5, `${report.compressionRatio}x smaller than dense float32`);
  });
  uvuTest.run();
}
