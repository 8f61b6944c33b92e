// Generated code, every kind of it, lives under a gen/ folder and is
// committed; this one check regenerates each kind and compares it with what
// is committed:
//   formats/gen/                  flatc over formats/*.fbs (needs flatc)
//   device-sim/kernels/gen/       wabt's wat2wasm over device-sim/kernels/rows.wat
//   server/db/gen/migrations/     drizzle-kit generate from server/db/schema.ts
//                                 (no schema change may be left without its migration)
// `npm run gen` rewrites the first two; `npx drizzle-kit generate` the last.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { renderRowsWasm } from '../scripts/gen-wasm.mjs';
import { FLATC, requiring } from './requirements.ts';

function listFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? listFiles(path) : [path];
  });
}

/** The files of two trees, by path relative to each, and the paths whose bytes differ. */
function compareTrees(committed: string, fresh: string): { committed: string[]; fresh: string[]; differing: string[] } {
  const a = listFiles(committed)
    .map((f) => relative(committed, f))
    .sort();
  const b = listFiles(fresh)
    .map((f) => relative(fresh, f))
    .sort();
  const differing = a.filter((f) => b.includes(f) && !readFileSync(join(committed, f)).equals(readFileSync(join(fresh, f))));
  return { committed: a, fresh: b, differing };
}

requiring(test, FLATC)('formats/gen is what flatc makes of formats/*.fbs', () => {
  const out = join(mkdtempSync(join(tmpdir(), 'wg-gen-')), 'gen');
  try {
    const run = spawnSync('bash', ['scripts/gen-flatbuffers.sh', out], { encoding: 'utf8' });
    assert.is(run.status, 0, run.stderr);
    const trees = compareTrees('formats/gen', out);
    assert.equal(trees.committed, trees.fresh, 'the same files: run `npm run gen` and commit formats/gen');
    assert.equal(trees.differing, [], 'the same bytes: run `npm run gen` and commit formats/gen');
  } finally {
    rmSync(join(out, '..'), { recursive: true, force: true });
  }
});

test('device-sim/kernels/gen is what wabt makes of rows.wat', async () => {
  const committed = readFileSync('device-sim/kernels/gen/rows-wasm.ts', 'utf8');
  assert.is(committed, await renderRowsWasm(), 'run `npm run gen` and commit device-sim/kernels/gen/rows-wasm.ts');
});

test('server/db/gen/migrations holds every change of the schema (drizzle-kit generate adds nothing)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wg-gen-migrations-'));
  try {
    cpSync('server/db/gen/migrations', dir, { recursive: true });
    // its bin (the package exports no bin path to resolve)
    const bin = fileURLToPath(new URL('../node_modules/drizzle-kit/bin.cjs', import.meta.url));
    // drizzle-kit takes --out relative to the working directory
    const out = `./${relative(process.cwd(), dir)}`;
    const run = spawnSync(process.execPath, [bin, 'generate', '--dialect', 'postgresql', '--schema', './server/db/schema.ts', '--out', out], {
      encoding: 'utf8',
    });
    assert.is(run.status, 0, `${run.stdout}${run.stderr}`);
    const trees = compareTrees('server/db/gen/migrations', dir);
    assert.equal(trees.fresh, trees.committed, 'drizzle-kit generated a migration: run `npx drizzle-kit generate` and commit it');
    assert.equal(trees.differing, [], 'drizzle-kit rewrote a committed migration');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
