// The baseline: bare node:http serving the same bytes from memory with the
// same headers, no routing, auth or database. The weightgate server's cached
// patch path is measured against it.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export async function startBareServer(bytes: Uint8Array, sha256: string): Promise<{ url: string; close(): Promise<void> }> {
  const body = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const server: Server = createServer((_req, res) => {
    res.writeHead(200, {
      'Content-Type': 'application/octet-stream',
      'Content-Length': body.byteLength,
      ETag: `"${sha256}"`,
      'Cache-Control': 'public, max-age=31536000, immutable',
      'Accept-Ranges': 'bytes',
    });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/patch`,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
