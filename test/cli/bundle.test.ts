// The compiled CLI (scripts/build-cli.mjs): it answers as the sources do,
// every file it reads beside a source is where it looks, and it is used
// only while no source is newer than it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { bundleIsFresh } from '../../bin/bundle.mjs';
// @ts-expect-error: a plain JavaScript module without declarations
import { buildCli } from '../../scripts/build-cli.mjs';

// Built into a folder of this test's own (dist/cli/ is in use by the other
// test files), inside the checkout so that packages resolve from node_modules.
const cache = join('node_modules', '.cache', 'weightgate');
mkdirSync(cache, { recursive: true });
const out = mkdtempSync(join(cache, 'cli-bundle-test-'));
const built: { inputs: number } = await buildCli(out);

const run = (entry: string[], args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [...entry, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });

test('the compiled CLI answers as the sources do', () => {
  assert.ok(built.inputs > 50, `the bundle lists ${built.inputs} sources`);
  for (const args of [['--help'], ['build', '--help'], ['firmware', 'plan', '--help'], ['inspect', 'no-such-file.wgm'], ['no-such-command']]) {
    const compiled = run([join(out, 'main.js')], args);
    const source = run(['--import', 'tsx', 'cli/main.ts'], args);
    assert.is(compiled.status, source.status, `exit code of ${args.join(' ')}`);
    assert.is(compiled.stdout, source.stdout, `stdout of ${args.join(' ')}`);
    assert.is(compiled.stderr, source.stderr, `stderr of ${args.join(' ')}`);
  }
});

test("each source's import.meta.url, and each file read beside it, resolves from the bundle", () => {
  const base = pathToFileURL(join(out, 'main.js'));
  let sources = 0;
  let beside = 0;
  for (const name of readdirSync(out).filter((file) => file.endsWith('.js'))) {
    const code = readFileSync(join(out, name), 'utf8');
    // scripts/esbuild-node.mjs declares each such source's URL once, relative to the bundle.
    const declared = [...code.matchAll(/(__wgOwnImportMetaUrl\d*) = new URL\("([^"]+)", import\.meta\.url\)\.href/g)];
    for (const declaration of declared) {
      const url = new URL(declaration[2], base);
      assert.ok(existsSync(fileURLToPath(url)), `${declaration[2]} exists`);
      sources += 1;
      // Literal paths read beside that source (until the next module's declaration).
      const end = declared.find((next) => next.index > declaration.index)?.index ?? code.length;
      const uses = code.slice(declaration.index, end).matchAll(new RegExp(`new URL\\("([^"]+)", ${declaration[1]}\\)`, 'g'));
      for (const [, file] of uses) {
        assert.ok(existsSync(fileURLToPath(new URL(file, url))), `${file} beside ${declaration[2]}`);
        beside += 1;
      }
    }
  }
  assert.ok(sources >= 5, `${sources} sources use import.meta.url`);
  // The migrations, the GraphQL schema, the fleet worker's entry point.
  assert.ok(beside >= 3, `${beside} files read beside a source`);
});

test('the bundle is fresh only while no source is newer than its build', async () => {
  assert.ok(await bundleIsFresh(out));
  const base = mkdtempSync(join(tmpdir(), 'wg-cli-bundle-src-'));
  const dir = join(base, 'bundle');
  mkdirSync(dir);
  writeFileSync(join(base, 'a.ts'), '');
  const built = Date.now();
  utimesSync(join(base, 'a.ts'), new Date(built - 1000), new Date(built - 1000));
  writeFileSync(join(dir, 'inputs.json'), JSON.stringify({ built, inputs: ['a.ts'] }));
  assert.ok(await bundleIsFresh(dir, base));
  // Saved after the build: stale.
  utimesSync(join(base, 'a.ts'), new Date(built + 1000), new Date(built + 1000));
  assert.not.ok(await bundleIsFresh(dir, base));
  // A source that is gone, an empty or damaged list, no list: stale.
  writeFileSync(join(dir, 'inputs.json'), JSON.stringify({ built: built + 5000, inputs: ['a.ts', 'b.ts'] }));
  assert.not.ok(await bundleIsFresh(dir, base));
  writeFileSync(join(dir, 'inputs.json'), JSON.stringify({ built: built + 5000, inputs: [] }));
  assert.not.ok(await bundleIsFresh(dir, base));
  writeFileSync(join(dir, 'inputs.json'), '{');
  assert.not.ok(await bundleIsFresh(dir, base));
  rmSync(join(dir, 'inputs.json'));
  assert.not.ok(await bundleIsFresh(dir, base));
  rmSync(base, { recursive: true, force: true });
});

test('bin/weightgate.js runs the sources when told to', () => {
  const result = run(['bin/weightgate.js'], ['--help'], { WEIGHTGATE_FROM_SOURCE: '1' });
  assert.is(result.status, 0, result.stderr);
  assert.match(result.stdout, /Usage: weightgate/);
});

test.after(() => rmSync(out, { recursive: true, force: true }));
test.run();
