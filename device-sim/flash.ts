// The simulated flash, persisted as files in the device's directory so a
// device survives a restart of the process (a reboot).
//
//   flash (profile.flashBytes)
//   ┌──────────┬──────────┬───────────────────────┬───────────────────────┐
//   │ state 0  │ state 1  │ slot A                │ slot B                │
//   │ 4 KiB    │ 4 KiB    │ (flash - 8 KiB) / 2   │ (flash - 8 KiB) / 2   │
//   └──────────┴──────────┴───────────────────────┴───────────────────────┘
//   files: state-0.bin state-1.bin slot-a.bin slot-b.bin
//          slot-a.image.bin slot-b.image.bin (each slot's execution image,
//          the tail of its region: see exec-image.ts)
//
// A download (patch or full artifact) is staged in the inactive slot's
// region before being applied; it is kept as download.bin (+ download.json
// naming what it is) so a broken download resumes where it stopped, and it
// counts against that slot's size. Writes go through the power-cut injector,
// which may tear any write at a chosen byte.
//
// Reads come from a copy in memory of what this process wrote or read last
// (a microcontroller reads its flash as memory, with no system call); a
// write updates the file and the copy alike, torn writes included. A new
// Flash (a reboot) starts from the files.
//
// A flash kept in memory only (`storage: 'memory'`) is that copy and no
// files: the same layout, budgets and torn writes, but nothing survives the
// process. For fleets of thousands of simulated devices that never restart
// (the push benches), where the files' system calls were a seventh of each
// device's update.
import { mkdirSync, openSync, readFileSync, rmSync, statSync, writeSync, closeSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { BudgetError, DeviceError, DeviceErrorCode } from './errors.ts';
import type { PowerCutInjector } from './power-cut.ts';
import { decodeStateRecord, encodeStateRecord, pickStateRecord, type StateRecord } from './state-record.ts';

/** One erase sector per state record copy, the usual NOR flash sector size. */
export const STATE_SECTOR_BYTES = 4096;
const WRITE_CHUNK = 4096;
const SLOT_FILES = ['slot-a.bin', 'slot-b.bin'] as const;
/** The execution image of each slot (exec-image.ts): the tail of the slot's region, after the artifact. */
const IMAGE_FILES = ['slot-a.image.bin', 'slot-b.image.bin'] as const;

export function slotName(slot: number): 'A' | 'B' {
  return slot === 0 ? 'A' : 'B';
}

export function slotCapacityOf(flashBytes: number): number {
  return Math.max(0, Math.floor((flashBytes - 2 * STATE_SECTOR_BYTES) / 2));
}

export interface DownloadMeta {
  sha256: string;
  bytes: number;
  kind: 'patch' | 'artifact';
}

/** Programs one slot in order, as a patch is applied into it (flash.openSlotWriter). */
export interface SlotWriter {
  /** Programs `bytes` right after the previous ones, through the power-cut injector. */
  append(bytes: Uint8Array): void;
  /** Bytes programmed so far. */
  readonly written: number;
  /** Ends programming early (an apply that failed); the slot keeps what was written. */
  close(): void;
}

/** Where a simulated flash keeps its bytes: files in the device's directory (default), or this process's memory only. */
export type FlashStorage = 'files' | 'memory';

export class Flash {
  readonly slotCapacity: number;
  private readonly inMemory: boolean;

  constructor(
    readonly dir: string,
    readonly flashBytes: number,
    private readonly injector: PowerCutInjector,
    storage: FlashStorage = 'files',
  ) {
    this.inMemory = storage === 'memory';
    if (!this.inMemory) mkdirSync(dir, { recursive: true });
    this.slotCapacity = slotCapacityOf(flashBytes);
  }

  /** BudgetError unless `bytes` fit one slot. */
  checkFitsSlot(bytes: number, what: string): void {
    if (bytes > this.slotCapacity) throw new BudgetError('FLASH', bytes, this.slotCapacity, what);
  }

  /** File name -> its bytes (null: no such file) as this process last wrote or read them. Never changed in place. */
  private readonly mirror = new Map<string, Uint8Array | null>();

  private path(name: string): string {
    return join(this.dir, name);
  }

  private readOptional(name: string): Uint8Array | null {
    const known = this.mirror.get(name);
    if (known !== undefined || this.inMemory) return known ?? null;
    let bytes: Uint8Array | null = null;
    if (existsSync(this.path(name))) {
      try {
        bytes = new Uint8Array(readFileSync(this.path(name)));
      } catch {
        bytes = null;
      }
    }
    this.mirror.set(name, bytes);
    return bytes;
  }

  private forget(name: string): void {
    // Known absent (this process removed it or found none): no system call.
    if (!this.inMemory && this.mirror.get(name) !== null && existsSync(this.path(name))) rmSync(this.path(name));
    this.mirror.set(name, null);
  }

  /** Writes through the injector: may tear the write and throw PowerCutError. */
  private writeTorn(name: string, bytes: Uint8Array, flags: 'w' | 'a'): void {
    const progress = { written: 0 };
    if (this.inMemory) {
      const before = flags === 'a' ? (this.mirror.get(name) ?? new Uint8Array(0)) : new Uint8Array(0);
      try {
        this.writeTornTo(null, bytes, progress);
      } finally {
        const after = new Uint8Array(before.length + progress.written);
        after.set(before);
        after.set(bytes.subarray(0, progress.written), before.length);
        this.mirror.set(name, after);
      }
      return;
    }
    const fd = openSync(this.path(name), flags);
    try {
      this.writeTornTo(fd, bytes, progress);
    } finally {
      closeSync(fd);
      if (flags === 'w') this.mirror.set(name, bytes.slice(0, progress.written));
      else this.mirror.delete(name);
    }
  }

  /** Programs `bytes` into the open file `fd` (null: a flash in memory, whose caller keeps the bytes) through the injector. */
  private writeTornTo(fd: number | null, bytes: Uint8Array, progress: { written: number }): void {
    for (let at = 0; at < bytes.length; at += WRITE_CHUNK) {
      const piece = bytes.subarray(at, Math.min(bytes.length, at + WRITE_CHUNK));
      const allowed = this.injector.allowance(piece.length);
      if (allowed > 0 && fd !== null) writeSync(fd, piece, 0, allowed);
      this.injector.record(allowed);
      progress.written += allowed;
      if (allowed < piece.length) this.injector.cut();
    }
  }

  readState(): StateRecord | null {
    return pickStateRecord([0, 1].map((i) => decodeStateRecord(this.readOptional(`state-${i}.bin`))));
  }

  /** Writes the record into the copy its sequence number selects, leaving the other copy intact. */
  writeState(state: StateRecord): void {
    this.writeTorn(`state-${state.sequence % 2}.bin`, encodeStateRecord(state), 'w');
  }

  readSlot(slot: number): Uint8Array | null {
    return this.readOptional(SLOT_FILES[slot]);
  }

  /** Erases the slot (with its execution image) and programs `bytes` into it. */
  writeSlot(slot: number, bytes: Uint8Array): void {
    this.checkFitsSlot(bytes.length, `artifact for slot ${slotName(slot)}`);
    this.eraseImage(slot);
    this.writeTorn(SLOT_FILES[slot], bytes, 'w');
  }

  /**
   * Erases the slot (with its execution image) for an artifact of
   * `totalBytes` (a flash BudgetError before anything is erased when it does
   * not fit) and returns a writer that programs it in order, page by page as
   * the bytes come, the way writeSlot programs a whole artifact.
   */
  openSlotWriter(slot: number, totalBytes: number): SlotWriter {
    this.checkFitsSlot(totalBytes, `artifact for slot ${slotName(slot)}`);
    this.eraseImage(slot);
    // One open file for the whole slot (closed once it is full, or when the
    // power goes). Appends gather in a WRITE_CHUNK buffer, programmed when it
    // is full and when the slot is: one write call a chunk, not one a page.
    // The injector still counts every byte, so a cut after N bytes leaves
    // exactly N bytes in the slot, as unbuffered writes would.
    const name = SLOT_FILES[slot];
    // The open file (none for a flash in memory: the copy below is all it holds), until the slot is closed.
    const fd = this.inMemory ? null : openSync(this.path(name), 'w');
    let open = true;
    let written = 0;
    const pending = new Uint8Array(Math.min(WRITE_CHUNK, totalBytes));
    let held = 0;
    // What the file holds, programmed so far (torn writes included): the copy in memory once closed.
    const programmed = new Uint8Array(totalBytes);
    const progress = { written: 0 };
    this.mirror.delete(name);
    const close = (): void => {
      if (open) {
        if (fd !== null) closeSync(fd);
        this.mirror.set(name, programmed.subarray(0, progress.written));
      }
      open = false;
    };
    const flush = (): void => {
      if (held === 0 || !open) return;
      const chunk = pending.subarray(0, held);
      held = 0;
      const before = progress.written;
      try {
        this.writeTornTo(fd, chunk, progress);
      } finally {
        programmed.set(chunk.subarray(0, progress.written - before), before);
      }
    };
    if (totalBytes === 0) close();
    return {
      append: (bytes) => {
        if (!open || written + bytes.length > totalBytes) {
          throw new DeviceError(DeviceErrorCode.BAD_INPUT, `slot ${slotName(slot)} was opened for ${totalBytes} bytes; ${written + bytes.length} were written`);
        }
        try {
          for (let at = 0; at < bytes.length; ) {
            const n = Math.min(bytes.length - at, pending.length - held);
            pending.set(bytes.subarray(at, at + n), held);
            held += n;
            at += n;
            if (held === pending.length) flush();
          }
          written += bytes.length;
          if (written === totalBytes) {
            flush();
            close();
          }
        } catch (error) {
          close();
          throw error;
        }
      },
      get written() {
        return written;
      },
      close,
    };
  }

  /** Bytes of the slot's execution image in flash (0 when none). */
  imageLength(slot: number): number {
    return this.readOptional(IMAGE_FILES[slot])?.length ?? 0;
  }

  /** The slot's execution image, or null when none was written. */
  readImage(slot: number): Uint8Array | null {
    return this.readOptional(IMAGE_FILES[slot]);
  }

  /**
   * Programs the execution image into the slot's region after its artifact
   * (`artifactBytes` long): BudgetError when both do not fit the slot.
   */
  writeImage(slot: number, artifactBytes: number, image: Uint8Array): void {
    this.checkFitsSlot(
      artifactBytes + image.length,
      `artifact (${artifactBytes} bytes) and its execution image (${image.length} bytes) in slot ${slotName(slot)}`,
    );
    this.writeTorn(IMAGE_FILES[slot], image, 'w');
  }

  eraseImage(slot: number): void {
    this.forget(IMAGE_FILES[slot]);
  }

  readDownloadMeta(): DownloadMeta | null {
    const bytes = this.readOptional('download.json');
    if (!bytes) return null;
    try {
      const meta = JSON.parse(Buffer.from(bytes).toString('utf8')) as DownloadMeta;
      if (typeof meta.sha256 !== 'string' || typeof meta.bytes !== 'number') return null;
      return meta;
    } catch {
      return null;
    }
  }

  /** Bytes of the staged download so far (0 when none). */
  downloadLength(): number {
    if (this.inMemory) return this.mirror.get('download.bin')?.length ?? 0;
    try {
      return statSync(this.path('download.bin')).size;
    } catch {
      return 0;
    }
  }

  beginDownload(meta: DownloadMeta): void {
    this.checkFitsSlot(meta.bytes, `download of the ${meta.kind}`);
    this.clearDownload();
    this.writeTorn('download.json', new TextEncoder().encode(JSON.stringify(meta)), 'w');
    this.writeTorn('download.bin', new Uint8Array(0), 'w');
  }

  appendDownload(chunk: Uint8Array): void {
    this.writeTorn('download.bin', chunk, 'a');
  }

  readDownload(): Uint8Array | null {
    return this.readOptional('download.bin');
  }

  clearDownload(): void {
    for (const name of ['download.json', 'download.bin']) {
      if (this.mirror.get(name) !== null) this.forget(name);
    }
  }
}
