// Load generation for the server benchmark: wrk (Debian) against 127.0.0.1,
// bounded by its -d duration, parsed into requests/s and latency percentiles.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface LoadResult {
  url: string;
  connections: number;
  seconds: number;
  requests: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  socketErrors: number;
}

export interface LoadOptions {
  url: string;
  connections: number;
  seconds: number;
  threads?: number;
  headers?: Record<string, string>;
  /** POST with this JSON body (through a wrk Lua script), instead of GET. */
  postJson?: unknown;
}

function toMs(value: string, unit: string): number {
  const n = Number(value);
  if (unit === 'us') return n / 1000;
  if (unit === 's') return n * 1000;
  if (unit === 'm') return n * 60_000;
  return n;
}

/** Runs wrk once and parses its --latency report. */
export function runWrk(options: LoadOptions): Promise<LoadResult> {
  const args = ['-t', String(options.threads ?? 2), '-c', String(options.connections), '-d', `${options.seconds}s`, '--latency', '--timeout', '5s'];
  for (const [name, value] of Object.entries(options.headers ?? {})) args.push('-H', `${name}: ${value}`);
  let scriptDir: string | undefined;
  if (options.postJson !== undefined) {
    // wrk sends a body only from a Lua script; JSON.stringify's output is a valid Lua long string unless it holds "]]".
    const body = JSON.stringify(options.postJson);
    if (body.includes(']]')) throw new Error('a wrk POST body must not contain "]]"');
    scriptDir = mkdtempSync(join(tmpdir(), 'wg-wrk-'));
    const script = join(scriptDir, 'post.lua');
    writeFileSync(script, `wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = [[${body}]]\n`);
    args.push('-s', script);
  }
  args.push(options.url);
  const cleanup = () => scriptDir && rmSync(scriptDir, { recursive: true, force: true });
  return new Promise((resolve, reject) => {
    const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    // wrk stops itself after -d; this only guards against a hung process.
    const guard = setTimeout(() => child.kill('SIGKILL'), (options.seconds + 15) * 1000);
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', (e) => {
      clearTimeout(guard);
      cleanup();
      reject(new Error(`cannot run wrk (apt-get install wrk): ${e.message}`));
    });
    child.on('close', (code) => {
      clearTimeout(guard);
      cleanup();
      if (code !== 0) return reject(new Error(`wrk exited ${code}: ${err || out}`));
      const percentile = (p: string) => {
        const m = new RegExp(`^\\s*${p}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm').exec(out);
        return m ? toMs(m[1]!, m[2]!) : NaN;
      };
      const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? NaN);
      const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN);
      const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
      const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
      resolve({
        url: options.url,
        connections: options.connections,
        seconds: options.seconds,
        requests,
        requestsPerSecond: rps,
        p50Ms: percentile('50'),
        p99Ms: percentile('99'),
        non2xx,
        socketErrors: errors ? errors.slice(1).reduce((s, v) => s + Number(v), 0) : 0,
      });
    });
  });
}
