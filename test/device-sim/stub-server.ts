// A tiny node:http server that follows the device-facing HTTP contract
// (update-check, artifacts, patches with Range) so the update client can be
// tested without the real server. Releases are artifacts encoded per
// (version, license); patches come from formats' diffArtifacts when it can.
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { diffArtifacts, readArtifact } from '../../formats/index.ts';

export interface StubServer {
  url: string;
  /** Adds (or replaces) the artifact of (version, license). */
  publish(bytes: Uint8Array): void;
  /** Sets the intervals a token's license grants. */
  grant(token: string, intervals: number[]): void;
  /** The next `times` downloads break the connection after `bytes` body bytes. */
  breakDownloadsAfter(bytes: number, times?: number): void;
  /** Range headers the downloads asked for, in order. */
  ranges: string[];
  patchesServed: number;
  /** Patches sent inside update-check answers (asked for with `inline`). */
  patchesInlined: number;
  /** 'corrupt': inline patches carry one flipped byte (the hash no longer matches). */
  inlineMode: 'honest' | 'corrupt';
  close(): Promise<void>;
}

const keyOf = (version: number, intervals: number[]) => `${version}:${[...intervals].sort((a, b) => a - b).join(',')}`;

export async function startStubServer(options: { patches?: boolean } = {}): Promise<StubServer> {
  const byKey = new Map<string, { sha256: string; bytes: Uint8Array }>();
  const bySha = new Map<string, Uint8Array>();
  const grants = new Map<string, number[]>();
  let latest = 0;
  let breakAfter = 0;
  let breaksLeft = 0;
  const patchCache = new Map<string, Uint8Array | null>();

  function patchFor(fromSha: string, toSha: string): Uint8Array | null {
    if (options.patches === false) return null;
    const key = `${fromSha}/${toSha}`;
    if (!patchCache.has(key)) {
      try {
        patchCache.set(key, diffArtifacts(bySha.get(fromSha)!, bySha.get(toSha)!));
      } catch {
        patchCache.set(key, null); // formats cannot diff these (yet): devices get full artifacts
      }
    }
    return patchCache.get(key)!;
  }

  function sendJson(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  function sendBytes(req: IncomingMessage, res: ServerResponse, bytes: Uint8Array, sha: string): void {
    const range = req.headers.range;
    let start = 0;
    if (range) {
      stub.ranges.push(range);
      const match = /^bytes=(\d+)-$/.exec(range);
      if (!match || Number(match[1]) >= bytes.length) {
        res.writeHead(416, { 'content-range': `bytes */${bytes.length}` });
        res.end();
        return;
      }
      start = Number(match[1]);
    }
    const body = bytes.subarray(start);
    const headers: Record<string, string | number> = {
      'content-type': 'application/octet-stream',
      etag: `"${sha}"`,
      'accept-ranges': 'bytes',
      'content-length': body.length,
    };
    if (range) headers['content-range'] = `bytes ${start}-${bytes.length - 1}/${bytes.length}`;
    res.writeHead(range ? 206 : 200, headers);
    if (breaksLeft > 0 && breakAfter < body.length) {
      breaksLeft--;
      res.write(body.subarray(0, breakAfter), () => res.destroy());
      return;
    }
    res.end(body);
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://stub');
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const granted = token ? grants.get(token) : undefined;
    if (!granted) return sendJson(res, 401, { code: 'UNAUTHORIZED', message: 'bad device token' });
    const target = byKey.get(keyOf(latest, granted));
    if (url.pathname === '/v1/device/update-check') {
      if (!target) return sendJson(res, 404, { code: 'NOT_FOUND', message: 'nothing published for this license' });
      const version = Number(url.searchParams.get('version') ?? 0);
      const intervalsText = url.searchParams.get('intervals') ?? '';
      const intervals = intervalsText ? intervalsText.split(',').map(Number) : [];
      const current = version > 0 ? byKey.get(keyOf(version, intervals)) : undefined;
      const upToDate = current?.sha256 === target.sha256;
      const patch = current && !upToDate ? patchFor(current.sha256, target.sha256) : null;
      let inline: string | undefined;
      if (patch && patch.length <= Number(url.searchParams.get('inline') ?? 0)) {
        const sent = patch.slice();
        if (stub.inlineMode === 'corrupt') sent[sent.length >> 1]! ^= 0x40;
        inline = Buffer.from(sent).toString('base64');
        stub.patchesInlined++;
      }
      return sendJson(res, 200, {
        model: readArtifact(target.bytes).manifest.model,
        upToDate,
        version: latest,
        intervals: granted,
        artifact: { url: `/v1/artifacts/${target.sha256}`, sha256: target.sha256, bytes: target.bytes.length },
        patch: patch && current ? { url: `/v1/patches/${current.sha256}/${target.sha256}`, sha256: readArtifactSha(patch), bytes: patch.length, inline } : null,
      });
    }
    const artifactMatch = /^\/v1\/artifacts\/([0-9a-f]{64})$/.exec(url.pathname);
    if (artifactMatch) {
      const bytes = bySha.get(artifactMatch[1]);
      if (!bytes) return sendJson(res, 404, { code: 'NOT_FOUND', message: 'no such artifact' });
      return sendBytes(req, res, bytes, artifactMatch[1]);
    }
    const patchMatch = /^\/v1\/patches\/([0-9a-f]{64})\/([0-9a-f]{64})$/.exec(url.pathname);
    if (patchMatch) {
      const patch = bySha.has(patchMatch[1]) && bySha.has(patchMatch[2]) ? patchFor(patchMatch[1], patchMatch[2]) : null;
      if (!patch) return sendJson(res, 404, { code: 'NOT_FOUND', message: 'no such patch' });
      stub.patchesServed++;
      return sendBytes(req, res, patch, readArtifactSha(patch));
    }
    sendJson(res, 404, { code: 'NOT_FOUND', message: url.pathname });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const stub: StubServer = {
    url: `http://127.0.0.1:${port}`,
    publish(bytes) {
      const artifact = readArtifact(bytes);
      byKey.set(keyOf(artifact.manifest.version, artifact.heldIntervals), { sha256: artifact.sha256, bytes });
      bySha.set(artifact.sha256, bytes);
      latest = Math.max(latest, artifact.manifest.version);
    },
    grant(token, intervals) {
      grants.set(token, intervals);
    },
    breakDownloadsAfter(bytes, times = 1) {
      breakAfter = bytes;
      breaksLeft = times;
    },
    ranges: [],
    patchesServed: 0,
    patchesInlined: 0,
    inlineMode: 'honest',
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return stub;
}

function readArtifactSha(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
