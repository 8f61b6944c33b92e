// The device's RAM: one fixed ArrayBuffer of the profile's RAM budget. Every
// working buffer of inference comes from here; asking for more than is left
// is a BudgetError naming the bytes needed.
//
// Layout (as TFLite Micro's micro_allocator.h draws it):
//
//   0                                                            ramBytes
//   ┌────────────────────────┬──────────────────────────┬─────────────────┐
//   │ persistent (init)      │ planned scratch (prepare) │      free       │
//   │ segment index tables   │ input bytes, activations, │                 │
//   │ per layer              │ entry chunk buffers;      │                 │
//   │                        │ lifetimes overlap-planned │                 │
//   └────────────────────────┴──────────────────────────┴─────────────────┘
//   ^ grows up from 0        ^ persistentEnd             ^ high-water mark
//
// Allocation is a bump pointer: a device never frees single buffers, it
// resets to a mark (a model unload rewinds to 0).
import { BudgetError } from './errors.ts';

/** Buffers start on 16-byte boundaries, as TFLM's kBufferAlignment. */
export const ARENA_ALIGNMENT = 16;

export function alignUp(bytes: number, alignment = ARENA_ALIGNMENT): number {
  return Math.ceil(bytes / alignment) * alignment;
}

export class Arena {
  readonly buffer: ArrayBuffer;
  private top = 0;
  private highWater = 0;

  constructor(readonly sizeBytes: number) {
    this.buffer = new ArrayBuffer(sizeBytes);
  }

  /** Reserves `bytes` (aligned) and returns their offset; BudgetError when it does not fit. */
  allocate(bytes: number, what: string): number {
    const offset = alignUp(this.top);
    const end = offset + bytes;
    if (end > this.sizeBytes) {
      throw new BudgetError('RAM', end, this.sizeBytes, what);
    }
    this.top = end;
    if (end > this.highWater) this.highWater = end;
    return offset;
  }

  /** The current top, to rewind to later. */
  mark(): number {
    return this.top;
  }

  rewind(mark: number): void {
    this.top = mark;
  }

  usedBytes(): number {
    return this.top;
  }

  highWaterBytes(): number {
    return this.highWater;
  }

  float32(offset: number, length: number): Float32Array {
    return new Float32Array(this.buffer, offset, length);
  }

  uint32(offset: number, length: number): Uint32Array {
    return new Uint32Array(this.buffer, offset, length);
  }

  uint16(offset: number, length: number): Uint16Array {
    return new Uint16Array(this.buffer, offset, length);
  }

  uint8(offset: number, length: number): Uint8Array {
    return new Uint8Array(this.buffer, offset, length);
  }
}
