// The committed formats/gen/ must be exactly what `npm run gen` (flatc over
// formats/*.fbs) produces. Needs flatc: skipped without it (CI installs it).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { FLATC, requiring } from '../requirements.ts';

function listFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? listFiles(path) : [path];
  });
}

requiring(test, FLATC)('formats/gen matches fresh flatc output of formats/*.fbs', () => {
  const out = join(mkdtempSync(join(tmpdir(), 'wg-gen-')), 'gen');
  const run = spawnSync('bash', ['scripts/gen-flatbuffers.sh', out], { encoding: 'utf8' });
  assert.is(run.status, 0, run.stderr);
  const fresh = listFiles(out)
    .map((f) => relative(out, f))
    .sort();
  const committed = listFiles('formats/gen')
    .map((f) => relative('formats/gen', f))
    .sort();
  assert.equal(committed, fresh, 'the same files');
  for (const file of fresh) {
    assert.ok(readFileSync(join(out, file)).equals(readFileSync(join('formats/gen', file))), `${file} differs: run \`npm run gen\` and commit`);
  }
});

test.run();
