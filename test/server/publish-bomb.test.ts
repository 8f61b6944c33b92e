// A decompression bomb uploaded with a signature from no registered key is
// refused (403) before the server hashes or decodes a single segment.
import * as assert from 'uvu/assert';
import { generateKeyPair, segmentDecodeStats } from '../../formats/index.ts';
import { driverSuites } from './harness.ts';
import { publish, registerPublisherKey } from './fixtures.ts';
import { bombArtifact } from '../formats/bomb.ts';

const bomb = bombArtifact(generateKeyPair().privateKeyPem);

for (const s of driverSuites('server publish: decompression bomb')) {
  s('an unknown key is refused before any segment is decoded', async ({ h }) => {
    await registerPublisherKey(h);
    const before = segmentDecodeStats.opened;
    const r = await publish(h, bomb);
    assert.is(r.status, 403, JSON.stringify(r.body));
    assert.is(r.body.code, 'UNKNOWN_PUBLISHER_KEY');
    assert.is(segmentDecodeStats.opened - before, 0);
  });
  s.run();
}
