// The device's RAM: one fixed arena of the profile's RAM budget. Every
// working buffer of decoding, inference and patching comes from here; asking
// for more than is left is a BudgetError naming the bytes needed.
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
// The bytes are a WebAssembly.Memory, so the wasm kernels
// (kernels/sparse-rows-wasm.ts) compute in the same RAM, and an execution
// image is mapped above it like memory-mapped flash.
//
// Allocation is a bump pointer: a device never frees single buffers, it
// resets to a mark (a model unload rewinds to 0).
import type { WorkingMemory } from '../formats/index.ts';
import { BudgetError } from './errors.ts';

/** Buffers start on 16-byte boundaries, as TFLM's kBufferAlignment. */
export const ARENA_ALIGNMENT = 16;

export function alignUp(bytes: number, alignment = ARENA_ALIGNMENT): number {
  return Math.ceil(bytes / alignment) * alignment;
}

/** WebAssembly's page: the address space grows in these. */
export const WASM_PAGE_BYTES = 65536;

export class Arena {
  /**
   * The device's address space, shared with the wasm kernels: RAM from 0
   * (sizeBytes of it usable), and from flashBase a window onto the running
   * slot's execution image, as an MCU maps its flash (mapFlash).
   */
  readonly memory: WebAssembly.Memory;
  /** Address of the flash window: the first page above RAM. */
  readonly flashBase: number;
  private top = 0;
  private highWater = 0;

  constructor(readonly sizeBytes: number) {
    const pages = Math.max(1, Math.ceil(sizeBytes / WASM_PAGE_BYTES));
    this.memory = new WebAssembly.Memory({ initial: pages });
    this.flashBase = pages * WASM_PAGE_BYTES;
  }

  get buffer(): ArrayBuffer {
    return this.memory.buffer;
  }

  /**
   * Maps read-only flash bytes (an execution image) at flashBase and returns
   * that address. The window is not RAM: it does not count against the
   * budget. Growing the address space detaches every earlier view, so a
   * model maps its image first, then takes its views (interpreter.ts).
   */
  mapFlash(bytes: Uint8Array): number {
    const needed = this.flashBase + bytes.length;
    const have = this.memory.buffer.byteLength;
    if (needed > have) this.memory.grow(Math.ceil((needed - have) / WASM_PAGE_BYTES));
    new Uint8Array(this.memory.buffer, this.flashBase, bytes.length).set(bytes);
    return this.flashBase;
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

  int32(offset: number, length: number): Int32Array {
    return new Int32Array(this.buffer, offset, length);
  }

  uint16(offset: number, length: number): Uint16Array {
    return new Uint16Array(this.buffer, offset, length);
  }

  uint8(offset: number, length: number): Uint8Array {
    return new Uint8Array(this.buffer, offset, length);
  }
}

/**
 * The arena as formats' WorkingMemory (which is also a CursorMemory): buffers
 * from its top for segment cursors, the image transcoder and the patch
 * applier. A `purpose` prefixes every buffer's name in a BudgetError.
 */
export function arenaMemory(arena: Arena, purpose?: string): WorkingMemory {
  const named = (what: string) => (purpose ? `${purpose}: ${what}` : what);
  return {
    uint8: (length, what) => arena.uint8(arena.allocate(length, named(what)), length),
    uint16: (length, what) => arena.uint16(arena.allocate(length * 2, named(what)), length),
    uint32: (length, what) => arena.uint32(arena.allocate(length * 4, named(what)), length),
    float32: (length, what) => arena.float32(arena.allocate(length * 4, named(what)), length),
    mark: () => arena.mark(),
    rewind: (mark) => arena.rewind(mark),
  };
}
