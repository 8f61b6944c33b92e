// What devices report of themselves (update checks and install reports),
// written in batches: the writes that arrive while one batch is being
// written go out together in the next, one UPDATE per set of columns,
// and each caller's promise settles when its row is written (group commit:
// a reply still means "stored"). An idle server writes at once; a fleet
// taking a release writes a few statements for hundreds of devices instead
// of two round trips each, which was most of the server's CPU per device.
import { sql, type SQL } from 'drizzle-orm';
import type { Db } from '../db/connect.ts';
import type { InstallOutcome } from '../../api/device-report.ts';

/** The device columns a device itself reports; unset fields are left as they are. */
export interface DeviceStateWrite {
  reportedVersion?: number;
  reportedHeldIntervals?: number[];
  reportedSha256?: string | null;
  lastSeenAt?: Date;
  reportedSlot?: 'A' | 'B' | null;
  lastOutcome?: InstallOutcome;
  lastOutcomeReason?: string | null;
  lastDownloadBytes?: number | null;
  lastReportAt?: Date;
}

type Field = keyof DeviceStateWrite;

/** Each field's column and its SQL type in the statement's record (the order is the statement's). */
const COLUMNS: ReadonlyArray<[Field, string, string]> = [
  ['reportedVersion', 'reported_version', 'integer'],
  ['reportedHeldIntervals', 'reported_intervals', 'jsonb'],
  ['reportedSha256', 'reported_sha256', 'text'],
  ['lastSeenAt', 'last_seen_at', 'timestamptz'],
  ['reportedSlot', 'reported_slot', 'text'],
  ['lastOutcome', 'last_outcome', 'text'],
  ['lastOutcomeReason', 'last_outcome_reason', 'text'],
  ['lastDownloadBytes', 'last_download_bytes', 'integer'],
  ['lastReportAt', 'last_report_at', 'timestamptz'],
];

/** Rows per statement: one JSON parameter of at most 1,000 rows (about 300 KB). */
const MAX_ROWS = 1_000;

interface Pending {
  write: DeviceStateWrite;
  waiters: Array<{ resolve: () => void; reject: (error: unknown) => void }>;
}

export interface DeviceStateWriter {
  /** Merges `write` into the device's pending row; resolves once it is stored. */
  write(deviceId: number, write: DeviceStateWrite): Promise<void>;
  /** Statements written since start (for tests and the bench). */
  readonly statements: number;
}

/** A field's value as JSON for jsonb_to_recordset (a timestamp as ISO text, the intervals as the JSON array they are stored as). */
function toJson(value: unknown): unknown {
  if (value === undefined) return null;
  return value instanceof Date ? value.toISOString() : value;
}

/**
 * One UPDATE for rows that set the same columns, the rows as one JSON
 * parameter (jsonb_to_recordset): the statement's text depends only on the
 * columns, and building it costs nothing per row (a VALUES list of bound
 * parameters cost the server more CPU than the rest of a device's check).
 */
function updateStatement(fields: Field[], rows: Array<[number, DeviceStateWrite]>): SQL {
  const columns = COLUMNS.filter(([field]) => fields.includes(field));
  const records = rows.map(([id, write]) => {
    const record: Record<string, unknown> = { id };
    for (const [field, column] of columns) record[column] = toJson(write[field]);
    return record;
  });
  const definitions = ['"id" integer', ...columns.map(([, column, type]) => `"${column}" ${type}`)].join(', ');
  const assignments = columns.map(([, column]) => `"${column}" = v."${column}"`).join(', ');
  return sql`update "devices" as d set ${sql.raw(assignments)} from jsonb_to_recordset(${JSON.stringify(records)}::jsonb) as v(${sql.raw(definitions)}) where d."id" = v."id"`;
}

export function createDeviceStateWriter(db: Db): DeviceStateWriter {
  let pending = new Map<number, Pending>();
  let flushing = false;
  let statements = 0;

  async function writeBatch(batch: Map<number, Pending>): Promise<void> {
    const groups = new Map<string, Array<[number, DeviceStateWrite]>>();
    for (const [id, { write }] of batch) {
      const fields = COLUMNS.map(([field]) => field).filter((field) => write[field] !== undefined);
      if (fields.length === 0) continue;
      const key = fields.join(',');
      let rows = groups.get(key);
      if (!rows) groups.set(key, (rows = []));
      rows.push([id, write]);
    }
    for (const [key, rows] of groups) {
      const fields = key.split(',') as Field[];
      for (let i = 0; i < rows.length; i += MAX_ROWS) {
        statements++;
        await db.execute(updateStatement(fields, rows.slice(i, i + MAX_ROWS)));
      }
    }
  }

  async function flush(): Promise<void> {
    while (pending.size > 0) {
      const batch = pending;
      pending = new Map();
      try {
        await writeBatch(batch);
        for (const { waiters } of batch.values()) for (const waiter of waiters) waiter.resolve();
      } catch (error) {
        for (const { waiters } of batch.values()) for (const waiter of waiters) waiter.reject(error);
      }
    }
    flushing = false;
  }

  return {
    get statements() {
      return statements;
    },
    write(deviceId, write) {
      return new Promise<void>((resolve, reject) => {
        const entry = pending.get(deviceId);
        if (entry) {
          Object.assign(entry.write, write);
          entry.waiters.push({ resolve, reject });
        } else {
          pending.set(deviceId, { write: { ...write }, waiters: [{ resolve, reject }] });
        }
        if (!flushing) {
          flushing = true;
          // Writes of this turn of the event loop join the first batch.
          setImmediate(() => void flush());
        }
      });
    },
  };
}
