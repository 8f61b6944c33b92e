// `device run` and `device fleet` against a server that is down, that refuses
// the token, or that is named by the environment only.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { recordingServer, runCli } from './helpers.ts';

const work = mkdtempSync(join(tmpdir(), 'wg-cli-device-'));
let n = 0;
const flashDir = () => join(work, `flash-${n++}`);
const noEnv = { WEIGHTGATE_SERVER: undefined, WEIGHTGATE_TOKEN: undefined };

/** A URL where nothing listens: a server's port, closed again. */
async function closedUrl(): Promise<string> {
  const server = await recordingServer();
  await server.close();
  return server.url;
}

test('an unreachable server is SERVER_UNREACHABLE, exit 1, for device run and device fleet', async () => {
  const url = await closedUrl();
  const run = await runCli(['device', 'run', '--server', url, '--token', 't', '--dir', flashDir(), '--allow-unsigned', '--once'], noEnv);
  assert.is(run.status, 1, run.stderr);
  assert.match(run.stderr, /^weightgate: error SERVER_UNREACHABLE: cannot reach /m);
  const tokens = join(work, 'tokens.txt');
  (await import('node:fs')).writeFileSync(tokens, 'a\nb\n');
  const fleet = await runCli(
    ['device', 'fleet', '--server', url, '--count', '2', '--tokens-file', tokens, '--dir', flashDir(), '--allow-unsigned', '--timeout', '2'],
    noEnv,
  );
  assert.is(fleet.status, 1, fleet.stderr);
  assert.match(fleet.stderr, /^weightgate: error SERVER_UNREACHABLE: cannot reach /m);
});

test('a refused token is BAD_TOKEN, exit 2, for device run as for the client commands', async () => {
  const server = await recordingServer(() => ({ status: 401, body: { code: 'BAD_TOKEN', message: 'the bearer token is unknown or revoked' } }));
  try {
    const run = await runCli(['device', 'run', '--server', server.url, '--token', 'wgd_nope', '--dir', flashDir(), '--allow-unsigned', '--once'], noEnv);
    assert.is(run.status, 2, run.stderr);
    assert.match(run.stderr, /^weightgate: error BAD_TOKEN: /m);
    const client = await runCli(['license', 'list', '--server', server.url, '--token', 'wgd_nope'], noEnv);
    assert.is(client.status, 2, client.stderr);
    assert.match(client.stderr, /^weightgate: error BAD_TOKEN: /m);
  } finally {
    await server.close();
  }
});

test('device run takes the server from WEIGHTGATE_SERVER and the token from WEIGHTGATE_TOKEN', async () => {
  const server = await recordingServer(() => ({ status: 401, body: { code: 'BAD_TOKEN', message: 'unknown token' } }));
  try {
    const fromEnv = await runCli(['device', 'run', '--dir', flashDir(), '--allow-unsigned', '--once'], {
      WEIGHTGATE_SERVER: server.url,
      WEIGHTGATE_TOKEN: 'wgd_from_env',
    });
    assert.is(fromEnv.status, 2, fromEnv.stderr);
    assert.is(server.requests.at(-1)?.authorization, 'Bearer wgd_from_env');
    const flag = await runCli(['device', 'run', '--token', 'wgd_flag', '--dir', flashDir(), '--allow-unsigned', '--once'], {
      WEIGHTGATE_SERVER: server.url,
      WEIGHTGATE_TOKEN: 'wgd_from_env',
    });
    assert.is(flag.status, 2, flag.stderr);
    assert.is(server.requests.at(-1)?.authorization, 'Bearer wgd_flag', '--token wins over the environment');
    const none = await runCli(['device', 'run', '--dir', flashDir(), '--allow-unsigned', '--once'], noEnv);
    assert.is(none.status, 2);
    assert.match(none.stderr, /--server.*WEIGHTGATE_SERVER/);
    const fleet = await runCli(['device', 'fleet', '--count', '1', '--admin-token', 'admin', '--model', 'm', '--allow-unsigned', '--dir', flashDir()], {
      WEIGHTGATE_SERVER: server.url,
    });
    assert.is(fleet.status, 2, fleet.stderr);
    assert.match(fleet.stderr, 'BAD_TOKEN');
  } finally {
    await server.close();
  }
});

test.run();
