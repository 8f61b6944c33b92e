// The README's figures come from the benchmarks' results, never typed by
// hand: every generated block must be what bench/readme.ts renders from the
// committed bench/results/*.json.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadBenchResults, renderReadme } from '../../bench/readme.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));

test('every bench block of README.md equals its rendering from bench/results', () => {
  const readme = readFileSync(`${root}README.md`, 'utf8');
  const blocks = readme.match(/<!-- bench:[a-z0-9-]+ -->/g) ?? [];
  assert.ok(blocks.length >= 6, `README.md has ${blocks.length} bench blocks`);
  const rendered = renderReadme(readme, loadBenchResults(`${root}bench/results/`));
  assert.is(rendered, readme, 'README.md differs from the bench results: run `npm run bench -- --summary` to regenerate it');
});

test('a retyped number inside a block is caught', () => {
  const readme = readFileSync(`${root}README.md`, 'utf8');
  const tampered = readme.replace(/(<!-- bench:summary -->[\s\S]*?\| )(\d)/, (_, head: string, digit: string) => head + String((Number(digit) + 1) % 10));
  assert.is.not(tampered, readme);
  assert.is.not(renderReadme(tampered, loadBenchResults(`${root}bench/results/`)), tampered);
});

test('an unknown block name is refused', () => {
  assert.throws(() => renderReadme('<!-- bench:nope -->\nx\n<!-- /bench:nope -->', loadBenchResults(`${root}bench/results/`)), /no renderer/);
});

test.run();
