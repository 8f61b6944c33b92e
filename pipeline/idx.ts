// Reader of the IDX format (http://yann.lecun.com/exdb/mnist/, "FILE FORMATS"):
// a big-endian header — two zero bytes, a type byte (0x08 = unsigned byte),
// the number of dimensions — then one uint32 size per dimension, then the
// data. Gzipped files (magic 1f 8b) are inflated first. Every size is checked
// against the file's length before any byte of data is read.
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { PipelineError } from './errors.ts';

export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

const GZIP_MAGIC_0 = 0x1f;
const GZIP_MAGIC_1 = 0x8b;
const IDX_TYPE_UBYTE = 0x08;
/** Sane cap on one file's decoded size (Fashion-MNIST train images are 47 MB). */
const MAX_IDX_BYTES = 1 << 30;

/** Parses IDX bytes of unsigned bytes with `expectedDims` dimensions; `file` names the source in errors. */
export function parseIdx(bytes: Uint8Array, expectedDims: number, file: string): IdxArray {
  let raw = bytes;
  if (raw.length >= 2 && raw[0] === GZIP_MAGIC_0 && raw[1] === GZIP_MAGIC_1) {
    try {
      raw = gunzipSync(raw, { maxOutputLength: MAX_IDX_BYTES });
    } catch (error) {
      throw new PipelineError('TRUNCATED', `${file}: the gzip stream is damaged or truncated (${(error as Error).message}); download the file again`);
    }
  }
  if (raw.length < 4) {
    throw new PipelineError('TRUNCATED', `${file}: ${raw.length} bytes is shorter than the 4-byte IDX magic number`);
  }
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const magic = view.getUint32(0);
  const expectedMagic = (IDX_TYPE_UBYTE << 8) | expectedDims;
  if (magic !== expectedMagic) {
    throw new PipelineError(
      'BAD_MAGIC',
      `${file}: magic number 0x${magic.toString(16).padStart(8, '0')}, expected 0x${expectedMagic.toString(16).padStart(8, '0')} ` +
        `(unsigned bytes, ${expectedDims} dimension${expectedDims > 1 ? 's' : ''}); is this the right IDX file?`,
    );
  }
  const headerBytes = 4 + 4 * expectedDims;
  if (raw.length < headerBytes) {
    throw new PipelineError('TRUNCATED', `${file}: header needs ${headerBytes} bytes, the file has ${raw.length}`);
  }
  const dims: number[] = [];
  let count = 1;
  for (let d = 0; d < expectedDims; d++) {
    const size = view.getUint32(4 + 4 * d);
    if (size === 0) throw new PipelineError('SIZE_MISMATCH', `${file}: dimension ${d} has size 0`);
    dims.push(size);
    count *= size;
  }
  if (count > MAX_IDX_BYTES) {
    throw new PipelineError('SIZE_MISMATCH', `${file}: the header declares ${count} bytes of data, more than the ${MAX_IDX_BYTES} cap`);
  }
  const available = raw.length - headerBytes;
  if (available < count) {
    throw new PipelineError('TRUNCATED', `${file}: the header declares ${dims.join('x')} = ${count} bytes of data, the file holds ${available}`);
  }
  if (available > count) {
    throw new PipelineError('SIZE_MISMATCH', `${file}: ${available - count} bytes after the ${dims.join('x')} data; the header sizes are wrong`);
  }
  return { dims, data: raw.subarray(headerBytes, headerBytes + count) };
}

/** Reads and parses an IDX file. */
export async function readIdxFile(file: string, expectedDims: number): Promise<IdxArray> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch {
    throw new PipelineError('NOT_FOUND', `${file}: cannot read the IDX file; check the path`);
  }
  return parseIdx(bytes, expectedDims, file);
}
