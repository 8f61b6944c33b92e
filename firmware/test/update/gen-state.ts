/**
 * gen-state.ts: state records from device-sim/state-record.ts for the C
 * library to read, and a check of the records the C library writes.
 *
 *   npx tsx firmware/test/update/gen-state.ts write <dir>   records + expected.txt
 *   npx tsx firmware/test/update/gen-state.ts read <dir>    checks <dir>/written.txt
 *
 * A line of expected.txt / written.txt, fields separated by one space:
 *   record <name> valid <sequence> <active> <confirmed> <previous> <vA> <bA> <shaA> <vB> <bB> <shaB>
 *   record <name> invalid
 *   pick <name> <copy-0 file> <copy-1 file> <sequence in force | none>
 * Slots and flags in decimal, SHA-256 in hex, "-" for an empty slot. A
 * file is the 100 record bytes (or the first bytes of a state sector).
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import {
  decodeStateRecord,
  emptyState,
  encodeStateRecord,
  NO_SLOT,
  pickStateRecord,
  RECORD_BYTES,
  type StateRecord,
} from '../../../device-sim/state-record.ts';

const sha = (text: string): string => createHash('sha256').update(text).digest('hex');

function line(name: string, state: StateRecord | null): string {
  if (!state) return `record ${name} invalid`;
  const slot = (i: number): string => {
    const s = state.slots[i];
    return `${s.version} ${s.bytes} ${s.sha256 || '-'}`;
  };
  return `record ${name} valid ${state.sequence} ${state.active} ${state.confirmed ? 1 : 0} ${state.previous} ${slot(0)} ${slot(1)}`;
}

/** Sets the CRC of bytes 0..95 again after a deliberate change. */
function reseal(bytes: Uint8Array): Uint8Array {
  new DataView(bytes.buffer, bytes.byteOffset).setUint32(96, crc32(bytes.subarray(0, 96)) >>> 0, true);
  return bytes;
}

function states(): Array<[string, StateRecord]> {
  const a = { version: 3, bytes: 123456, sha256: sha('a') };
  const b = { version: 4, bytes: 654321, sha256: sha('b') };
  return [
    ['empty', emptyState()],
    ['a-confirmed', { sequence: 2, active: 0, confirmed: true, previous: NO_SLOT, slots: [a, { version: 0, bytes: 0, sha256: '' }] }],
    ['b-trial', { sequence: 3, active: 1, confirmed: false, previous: 0, slots: [a, b] }],
    ['b-confirmed', { sequence: 4, active: 1, confirmed: true, previous: NO_SLOT, slots: [a, b] }],
    ['fell-back', { sequence: 77, active: 0, confirmed: true, previous: NO_SLOT, slots: [a, { version: 0, bytes: 0, sha256: '' }] }],
    ['no-model', { sequence: 78, active: NO_SLOT, confirmed: true, previous: NO_SLOT, slots: [{ version: 0, bytes: 0, sha256: '' }, b] }],
    ['big-numbers', { sequence: 0xfffffffe, active: 1, confirmed: false, previous: 0, slots: [{ version: 0xffffffff, bytes: 0x7fffffff, sha256: sha('x') }, { version: 0x80000000, bytes: 1, sha256: sha('y') }] }],
  ];
}

function write(dir: string): void {
  mkdirSync(dir, { recursive: true });
  const lines: string[] = [];
  const put = (name: string, bytes: Uint8Array): void => {
    writeFileSync(join(dir, `${name}.bin`), bytes);
    lines.push(line(name, decodeStateRecord(bytes)));
  };
  for (const [name, state] of states()) put(name, encodeStateRecord(state));

  const base = encodeStateRecord(states()[2][1]);
  const tamper = (name: string, change: (bytes: Uint8Array) => Uint8Array | void): void => {
    const bytes = Uint8Array.from(base);
    put(name, change(bytes) ?? bytes);
  };
  tamper('crc-flipped', (b) => void (b[96] ^= 1));
  tamper('sha-bit-flipped', (b) => void (b[40] ^= 0x10));
  tamper('torn-at-50', (b) => void b.fill(0xff, 50));
  tamper('torn-at-99', (b) => void b.fill(0xff, 99));
  tamper('erased', (b) => void b.fill(0xff));
  tamper('zeros', (b) => void b.fill(0));
  tamper('wrong-magic', (b) => reseal(((b[0] = 0x58), b)));
  tamper('layout-version-2', (b) => reseal(((b[4] = 2), b)));
  tamper('active-2', (b) => reseal(((b[6] = 2), b)));
  tamper('previous-5', (b) => reseal(((b[12] = 5), b)));
  tamper('reserved-set', (b) => reseal(((b[13] = 7), (b[15] = 0xff), b)));
  tamper('confirmed-2', (b) => reseal(((b[7] = 2), b)));

  // Pairs of copies: the one in force is the newer valid one (ties: copy 0).
  const rec = (seq: number, active: number): StateRecord => ({ ...states()[3][1], sequence: seq, active });
  const pairs: Array<[string, Uint8Array, Uint8Array]> = [
    ['pick-1-2', encodeStateRecord(rec(1, 0)), encodeStateRecord(rec(2, 1))],
    ['pick-9-8', encodeStateRecord(rec(9, 1)), encodeStateRecord(rec(8, 0))],
    ['pick-newer-torn', encodeStateRecord(rec(6, 0)), Uint8Array.from(encodeStateRecord(rec(7, 1))).fill(0xff, 60)],
    ['pick-older-erased', new Uint8Array(RECORD_BYTES).fill(0xff), encodeStateRecord(rec(5, 1))],
    ['pick-both-erased', new Uint8Array(RECORD_BYTES).fill(0xff), new Uint8Array(RECORD_BYTES).fill(0xff)],
    ['pick-tie', encodeStateRecord(rec(4, 0)), encodeStateRecord(rec(4, 1))],
  ];
  for (const [name, c0, c1] of pairs) {
    writeFileSync(join(dir, `${name}-0.bin`), c0);
    writeFileSync(join(dir, `${name}-1.bin`), c1);
    const best = pickStateRecord([decodeStateRecord(c0), decodeStateRecord(c1)]);
    lines.push(`pick ${name} ${name}-0.bin ${name}-1.bin ${best ? `${best.sequence} ${best.active}` : 'none'}`);
  }
  writeFileSync(join(dir, 'expected.txt'), `${lines.join('\n')}\n`);
  console.log(`gen-state: wrote ${lines.length} cases from device-sim/state-record.ts into ${dir}`);
}

function read(dir: string): void {
  const failures: string[] = [];
  let checked = 0;
  for (const text of readFileSync(join(dir, 'written.txt'), 'utf8').split('\n')) {
    if (!text) continue;
    const fields = text.split(' ');
    if (fields[0] === 'record') {
      const bytes = new Uint8Array(readFileSync(join(dir, `${fields[1]}.bin`)));
      const state = decodeStateRecord(bytes.subarray(0, RECORD_BYTES));
      const got = line(fields[1], state);
      if (got !== text) failures.push(`${fields[1]}: C wrote "${text}", device-sim decodes "${got}"`);
      // Byte-exact: device-sim encodes the decoded record to the same bytes.
      if (state && Buffer.compare(Buffer.from(encodeStateRecord(state)), Buffer.from(bytes.subarray(0, RECORD_BYTES))) !== 0) {
        failures.push(`${fields[1]}: device-sim re-encodes different bytes`);
      }
    } else if (fields[0] === 'pick') {
      const copy = (file: string): StateRecord | null =>
        decodeStateRecord(new Uint8Array(readFileSync(join(dir, file))).subarray(0, RECORD_BYTES));
      const best = pickStateRecord([copy(fields[2]), copy(fields[3])]);
      const got = best ? `${best.sequence} ${best.active}` : 'none';
      const want = fields.slice(4).join(' ');
      if (got !== want) failures.push(`${fields[1]}: C has ${want} in force, device-sim picks ${got}`);
    } else {
      failures.push(`unknown line "${text}"`);
    }
    checked++;
  }
  if (failures.length > 0 || checked === 0) {
    console.error(`gen-state: ${failures.length} of ${checked} C-written cases differ from device-sim:\n  ${failures.join('\n  ')}`);
    process.exit(1);
  }
  console.log(`gen-state: device-sim reads all ${checked} C-written cases identically`);
}

const [mode, dir] = process.argv.slice(2);
if (mode === 'write' && dir) write(dir);
else if (mode === 'read' && dir) read(dir);
else {
  console.error('usage: gen-state.ts write|read <dir>');
  process.exit(2);
}
