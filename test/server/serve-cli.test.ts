// `weightgate serve` prints its address once it accepts requests, answers
// /healthz, and exits 0 on SIGTERM; client commands print JSON with --json.
import { test as uvuTest } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { publisherKeys, signedTiny } from './fixtures.ts';
import { FULL_RUN, requiring } from '../requirements.ts';

// Among the slowest files: npm run test:fast leaves it out.
const test = requiring(uvuTest, FULL_RUN);

const ADMIN = 'serve-cli-admin-token-0123';

test('serve: listening line, healthz, client commands, clean stop on SIGTERM', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wg-serve-'));
  const env = { ...process.env, WEIGHTGATE_ADMIN_TOKEN: ADMIN, DATABASE_URL: '' };
  // bin/weightgate.js runs the CLI in its own process, so the signal reaches the server itself.
  const child = spawn(process.execPath, ['bin/weightgate.js', 'serve', '--port', '0', '--data', join(dir, 'db')], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`no listening line; got: ${out}`)), 60_000);
      child.stdout.on('data', (chunk) => {
        out += chunk;
        const match = /^listening on (http:\/\/127\.0\.0\.1:\d+)$/m.exec(out);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]!);
        }
      });
      child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${out}`)));
    });
    const health = await fetch(`${url}/healthz`);
    assert.is(health.status, 200);

    const cli = (args: string[]) =>
      spawnSync(process.execPath, ['bin/weightgate.js', ...args, '--server', url, '--token', ADMIN], { encoding: 'utf8', env, timeout: 60_000 });
    const keyFile = join(dir, 'key.pub.pem');
    writeFileSync(keyFile, publisherKeys.publicKeyPem);
    const key = cli(['keys', 'register', keyFile, '--json']);
    assert.is(key.status, 0, key.stderr);
    const wgm = join(dir, 'tiny.wgm');
    writeFileSync(wgm, signedTiny(1));
    const published = cli(['publish', wgm]);
    assert.is(published.status, 0, published.stderr);
    assert.match(published.stdout, 'published tiny version 1');
    const again = cli(['publish', wgm]);
    assert.is(again.status, 2);
    assert.match(again.stderr, 'weightgate: error VERSION_NOT_NEWER:');
    const customer = JSON.parse(cli(['customer', 'create', 'acme', '--json']).stdout);
    const license = JSON.parse(cli(['license', 'create', '--customer', String(customer.id), '--model', 'tiny', '--tier', 'bronze', '--json']).stdout);
    assert.is(license.tier, 'bronze');
    const device = JSON.parse(cli(['device', 'register', '--license', String(license.id), '--name', 'd1', '--json']).stdout);
    assert.match(device.token, /^wgd_/);
    const tier = cli(['license', 'tier', String(license.id), '--tier', 'gold']);
    assert.match(tier.stdout, 'tier gold');
    const keyId = JSON.parse(key.stdout).keyId as string;
    const revoked = cli(['keys', 'revoke', keyId]);
    assert.is(revoked.status, 0, revoked.stderr);
    assert.match(revoked.stdout, `revoked key ${keyId} (publisher); published versions it signed: tiny v1`);
    const listed = JSON.parse(cli(['keys', 'list', '--json']).stdout);
    assert.ok(listed[0].revokedAt, 'the list shows the revocation');
    writeFileSync(wgm, signedTiny(2));
    const afterRevoke = cli(['publish', wgm]);
    assert.is(afterRevoke.status, 2);
    assert.match(afterRevoke.stderr, 'weightgate: error PUBLISHER_KEY_REVOKED:');
    const noToken = spawnSync(process.execPath, ['bin/weightgate.js', 'customer', 'list', '--server', url], {
      encoding: 'utf8',
      env: { ...env, WEIGHTGATE_TOKEN: '' },
      timeout: 60_000,
    });
    assert.is(noToken.status, 2);

    const exited = new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    child.kill('SIGTERM');
    // unref: the deadline must not keep this process alive once the server has exited
    const code = await Promise.race([exited, new Promise<string>((resolve) => setTimeout(() => resolve('still running 30 s after SIGTERM'), 30_000).unref())]);
    assert.is(code, 0);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
