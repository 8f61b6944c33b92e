// Working memory for code that must run inside a device's RAM budget (the
// streaming patch applier, patch-stream.ts): every buffer whose size depends
// on the data is asked of a WorkingMemory, so a device can hand out its
// arena and a test a small fixed buffer. formats/ does not know the device;
// device-sim adapts its arena to this interface.
//
// Like a microcontroller's arena, it is a stack: buffers are never freed one
// by one; the caller takes a mark, allocates, and rewinds to the mark.
import { FormatError } from '../errors.ts';

export interface WorkingMemory {
  uint8(length: number, what: string): Uint8Array;
  uint16(length: number, what: string): Uint16Array;
  uint32(length: number, what: string): Uint32Array;
  float32(length: number, what: string): Float32Array;
  /** The current top, in bytes in use: to rewind to later, and to measure use. */
  mark(): number;
  /** Releases everything allocated since `mark` was taken. */
  rewind(mark: number): void;
}

/** A WorkingMemory over one fixed ArrayBuffer that records its peak use. */
export interface FixedWorkingMemory extends WorkingMemory {
  readonly sizeBytes: number;
  /** The most bytes in use at once since creation (alignment included). */
  peakBytes(): number;
}

/** Buffers start on 8-byte boundaries: enough for every typed array handed out. */
const ALIGNMENT = 8;
const POISON = 0xa5;

/**
 * A bump allocator over `sizeBytes` bytes; asking for more than is left is a
 * FormatError TOO_LARGE naming the buffer and the bytes it needed.
 */
export function fixedWorkingMemory(sizeBytes: number): FixedWorkingMemory {
  const buffer = new ArrayBuffer(sizeBytes);
  const raw = new Uint8Array(buffer);
  let top = 0;
  let peak = 0;
  const take = (bytes: number, what: string): number => {
    const offset = Math.ceil(top / ALIGNMENT) * ALIGNMENT;
    const end = offset + bytes;
    if (end > sizeBytes) {
      throw new FormatError('TOO_LARGE', `working memory: ${what} needs ${end} bytes in all, the allocator has ${sizeBytes}; give it more`);
    }
    top = end;
    if (end > peak) peak = end;
    // Poisoned, not zeroed: a device's arena holds whatever was there before,
    // so code that forgets to initialise a buffer fails here too.
    raw.fill(POISON, offset, end);
    return offset;
  };
  return {
    sizeBytes,
    uint8: (length, what) => new Uint8Array(buffer, take(length, what), length),
    uint16: (length, what) => new Uint16Array(buffer, take(2 * length, what), length),
    uint32: (length, what) => new Uint32Array(buffer, take(4 * length, what), length),
    float32: (length, what) => new Float32Array(buffer, take(4 * length, what), length),
    mark: () => top,
    rewind(mark) {
      top = mark;
    },
    peakBytes: () => peak,
  };
}

/**
 * Working memory from the JS heap, for hosts (CLI, server, tests): no limit;
 * mark() counts the bytes handed out and not rewound.
 */
export function heapWorkingMemory(): WorkingMemory {
  let top = 0;
  const take = (bytes: number): void => {
    top += bytes;
  };
  return {
    uint8: (length) => (take(length), new Uint8Array(length)),
    uint16: (length) => (take(2 * length), new Uint16Array(length)),
    uint32: (length) => (take(4 * length), new Uint32Array(length)),
    float32: (length) => (take(4 * length), new Float32Array(length)),
    mark: () => top,
    rewind(mark) {
      top = mark;
    },
  };
}
