// Responses for content-addressed bytes (artifacts, patches): strong ETag =
// the SHA-256, immutable caching, If-None-Match -> 304, and single byte
// ranges (RFC 9110 §14) so an interrupted download can resume.

import { asBody } from './negotiate.ts';

// Gated by Authorization: only the requesting device's own cache may keep the
// bytes (private), never a cache shared between clients (a proxy or CDN).
export const IMMUTABLE_PRIVATE = 'private, max-age=31536000, immutable';

export function contentResponse(request: Request, bytes: Uint8Array, sha256: string, method: string): Response {
  const etag = `"${sha256}"`;
  const headers: Record<string, string> = {
    ETag: etag,
    'Cache-Control': IMMUTABLE_PRIVATE,
    'Accept-Ranges': 'bytes',
  };
  // RFC 9110 §13.2.2: If-Match, then If-None-Match, then Range with If-Range.
  const ifMatch = request.headers.get('if-match');
  if (ifMatch !== null && !etagListMatches(ifMatch, etag, 'strong')) {
    return new Response(JSON.stringify({ code: 'PRECONDITION_FAILED', message: `If-Match does not name this content (its ETag is ${etag})` }), {
      status: 412,
      headers: { ...headers, 'Content-Type': 'application/json' },
    });
  }
  if (etagMatches(request.headers.get('if-none-match'), etag)) {
    // A 304 describes the stored response; it has no body and so no Content-Type.
    return new Response(null, { status: 304, headers });
  }
  headers['Content-Type'] = 'application/octet-stream';
  const total = bytes.byteLength;
  const head = method === 'HEAD';
  // Range is defined for GET only (§14.2), and If-Range must name exactly
  // this representation with a strong ETag, else the whole body is sent.
  const rangeHeader = !head && ifRangeHolds(request.headers.get('if-range'), etag) ? request.headers.get('range') : null;
  const range = parseRange(rangeHeader, total);
  if (range === 'unsatisfiable') {
    return new Response(null, { status: 416, headers: { ...headers, 'Content-Range': `bytes */${total}` } });
  }
  if (range !== null) {
    const [start, end] = range;
    headers['Content-Range'] = `bytes ${start}-${end}/${total}`;
    headers['Content-Length'] = String(end - start + 1);
    return new Response(asBody(bytes.subarray(start, end + 1)), { status: 206, headers });
  }
  headers['Content-Length'] = String(total);
  return new Response(head ? null : asBody(bytes), { status: 200, headers });
}

/** If-Range (§13.1.5): absent, or exactly our strong ETag. A date or a weak tag never holds (we have no Last-Modified). */
function ifRangeHolds(header: string | null, etag: string): boolean {
  if (header === null) return true;
  return header.trim() === etag;
}

/** If-None-Match: a list of entity tags or "*"; weak comparison (RFC 9110 §13.1.2). */
function etagMatches(header: string | null, etag: string): boolean {
  return header !== null && etagListMatches(header, etag, 'weak');
}

/** Whether a list of entity tags (or "*") names `etag`; strong comparison never matches a W/ tag. */
function etagListMatches(header: string, etag: string, comparison: 'strong' | 'weak'): boolean {
  if (header.trim() === '*') return true;
  return header.split(',').some((raw) => {
    const tag = raw.trim();
    if (tag.startsWith('W/')) return comparison === 'weak' && tag.slice(2) === etag;
    return tag === etag;
  });
}

/**
 * One range of `bytes=a-b`, `bytes=a-` or `bytes=-n`. Returns null to send the
 * whole body (no header, another unit, or several ranges, which a server may
 * ignore), or 'unsatisfiable' for a range that starts past the end.
 */
export function parseRange(header: string | null, total: number): [number, number] | null | 'unsatisfiable' {
  if (header === null) return null;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match) return null;
  const [, first, last] = match;
  if (first === '' && last === '') return null;
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0) return 'unsatisfiable';
    return [Math.max(0, total - suffix), total - 1];
  }
  const start = Number(first);
  if (start >= total) return 'unsatisfiable';
  const end = last === '' ? total - 1 : Math.min(Number(last), total - 1);
  if (end < start) return null;
  return [start, end];
}
