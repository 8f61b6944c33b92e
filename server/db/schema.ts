// The weight storage server's database: the single source of truth for its
// tables. drizzle-kit generates server/db/gen/migrations/ from this file
// (`npx drizzle-kit generate`); the server applies them at start-up.
//
// Storage model (docs/architecture.md vocabulary): a model has versions; a version is a
// signed manifest plus the list of its segments; segment bytes live once in
// `segments`, keyed by SHA-256, and are shared by every version that holds
// them, so a version that changes 10 % of its segments adds about 10 % of the
// bytes (the paper's incremental storage).
import { sql } from 'drizzle-orm';
import { customType, doublePrecision, index, integer, jsonb, pgTable, primaryKey, serial, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { INSTALL_OUTCOMES } from '../../api/device-report.ts';

/** Drizzle 0.45 has no bytea column; both drivers hand bytea back as a Uint8Array (Buffer on postgres.js). */
export const bytea = customType<{ data: Uint8Array; driverData: Uint8Array }>({
  dataType() {
    return 'bytea';
  },
  fromDriver(value) {
    // postgres.js returns a Buffer; hand out a plain view so callers never depend on Buffer.
    return value instanceof Uint8Array ? new Uint8Array(value.buffer, value.byteOffset, value.byteLength) : value;
  },
});

const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();

export const models = pgTable('models', {
  id: serial('id').primaryKey(),
  name: text('name').notNull().unique(),
  /**
   * The publisher token that first published the model: the only publisher
   * token that may publish, release or withdraw its versions (admins may
   * always). Null when an admin token created it (then only admins may).
   */
  ownerTokenId: integer('owner_token_id'),
  createdAt: createdAt(),
});

export const VERSION_STATES = ['draft', 'published', 'withdrawn'] as const;
export type VersionState = (typeof VERSION_STATES)[number];

export const versions = pgTable(
  'versions',
  {
    id: serial('id').primaryKey(),
    modelId: integer('model_id')
      .notNull()
      .references(() => models.id),
    number: integer('number').notNull(),
    state: text('state', { enum: VERSION_STATES }).notNull(),
    /** The exact manifest bytes the publisher signed. */
    manifest: bytea('manifest').notNull(),
    /** SHA-256 (hex) of the manifest bytes: the version's content hash. */
    contentSha256: text('content_sha256').notNull(),
    signature: bytea('signature'),
    /** Key id of the publisher key that verified the signature; null when published unsigned. */
    keyId: text('key_id'),
    /** Interval ids of the version (ascending), from the manifest. */
    intervals: jsonb('intervals').$type<number[]>().notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('versions_model_number').on(t.modelId, t.number)],
);

export const tiers = pgTable(
  'tiers',
  {
    versionId: integer('version_id')
      .notNull()
      .references(() => versions.id),
    name: text('name').notNull(),
    intervals: jsonb('intervals').$type<number[]>().notNull(),
    accuracy: doublePrecision('accuracy').notNull(),
  },
  (t) => [primaryKey({ columns: [t.versionId, t.name] })],
);

/** Content-addressed segment bytes, shared by every version that holds them. */
export const segments = pgTable('segments', {
  sha256: text('sha256').primaryKey(),
  data: bytea('data').notNull(),
  bytes: integer('bytes').notNull(),
  createdAt: createdAt(),
});

/** Which segments a version holds, in the order the artifact lists them. */
export const versionSegments = pgTable(
  'version_segments',
  {
    versionId: integer('version_id')
      .notNull()
      .references(() => versions.id),
    ordinal: integer('ordinal').notNull(),
    tensor: integer('tensor').notNull(),
    interval: integer('interval').notNull(),
    segmentSha256: text('segment_sha256')
      .notNull()
      .references(() => segments.sha256),
  },
  (t) => [primaryKey({ columns: [t.versionId, t.ordinal] })],
);

/**
 * Artifacts the server has assembled and handed out a URL for: maps a
 * content-addressed URL back to (version, intervals). The bytes are not
 * stored: assembly from segments is deterministic.
 */
export const artifacts = pgTable(
  'artifacts',
  {
    sha256: text('sha256').primaryKey(),
    versionId: integer('version_id')
      .notNull()
      .references(() => versions.id),
    intervals: jsonb('intervals').$type<number[]>().notNull(),
    /** Canonical "1,2,3" form of intervals, for the unique lookup. */
    intervalsKey: text('intervals_key').notNull(),
    bytes: integer('bytes').notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('artifacts_version_intervals').on(t.versionId, t.intervalsKey)],
);

/** Patches built on demand, cached by (from, to) artifact hashes. */
export const patches = pgTable(
  'patches',
  {
    fromSha256: text('from_sha256').notNull(),
    toSha256: text('to_sha256').notNull(),
    sha256: text('sha256').notNull(),
    data: bytea('data').notNull(),
    bytes: integer('bytes').notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.fromSha256, t.toSha256] })],
);

export const customers = pgTable('customers', {
  id: serial('id').primaryKey(),
  name: text('name').notNull(),
  createdAt: createdAt(),
});

export const LICENSE_KINDS = ['static', 'dynamic'] as const;
export type LicenseKind = (typeof LICENSE_KINDS)[number];

export const licenses = pgTable('licenses', {
  id: serial('id').primaryKey(),
  customerId: integer('customer_id')
    .notNull()
    .references(() => customers.id),
  modelId: integer('model_id')
    .notNull()
    .references(() => models.id),
  /** A tier name (resolved against each version's tiers) ... */
  tier: text('tier'),
  /** ... or explicit interval ids; exactly one of the two is set. */
  intervals: jsonb('intervals').$type<number[]>(),
  kind: text('kind', { enum: LICENSE_KINDS }).notNull(),
  expiresAt: timestamp('expires_at', { withTimezone: true }),
  revokedAt: timestamp('revoked_at', { withTimezone: true }),
  createdAt: createdAt(),
});

export const devices = pgTable(
  'devices',
  {
    id: serial('id').primaryKey(),
    licenseId: integer('license_id')
      .notNull()
      .references(() => licenses.id),
    name: text('name').notNull(),
    /** State as last reported in an update-check. */
    reportedVersion: integer('reported_version'),
    reportedHeldIntervals: jsonb('reported_intervals').$type<number[]>(),
    reportedSha256: text('reported_sha256'),
    lastSeenAt: timestamp('last_seen_at', { withTimezone: true }),
    /** The device's last install report (POST /v1/device/report): its slot, the outcome and why. */
    reportedSlot: text('reported_slot'),
    lastOutcome: text('last_outcome', { enum: INSTALL_OUTCOMES }),
    lastOutcomeReason: text('last_outcome_reason'),
    lastDownloadBytes: integer('last_download_bytes'),
    lastReportAt: timestamp('last_report_at', { withTimezone: true }),
    /** A named group of devices (say "canary" or "lab") a staged rollout can start with; null for none. */
    group: text('device_group'),
    createdAt: createdAt(),
  },
  (t) => [index('devices_license').on(t.licenseId), index('devices_outcome').on(t.lastOutcome)],
);

export const ROLLOUT_STATES = ['active', 'paused', 'complete'] as const;
export type RolloutState = (typeof ROLLOUT_STATES)[number];

/**
 * A version released in stages: only the devices of its stage are offered it
 * until the rollout is widened to every device (complete). It pauses by
 * itself when the share of failed installs in the stage passes
 * maxFailureShare (once minReports stage devices have reported). A version
 * released at once has no rollout row.
 */
export const rollouts = pgTable('rollouts', {
  versionId: integer('version_id')
    .primaryKey()
    .references(() => versions.id),
  state: text('state', { enum: ROLLOUT_STATES }).notNull(),
  /** The share of the model's devices (0-100) the stage was last widened to. */
  percent: integer('percent').notNull(),
  /** The device group the stage started with, if any. */
  group: text('device_group'),
  maxFailureShare: doublePrecision('max_failure_share').notNull(),
  minReports: integer('min_reports').notNull(),
  /** Why it paused (by itself or by an operator); null while it is not paused. */
  pausedReason: text('paused_reason'),
  createdAt: createdAt(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

/** The devices of a rollout's stage, and how each one's install of the version went (null: no report yet). */
export const rolloutDevices = pgTable(
  'rollout_devices',
  {
    versionId: integer('version_id')
      .notNull()
      .references(() => rollouts.versionId),
    deviceId: integer('device_id')
      .notNull()
      .references(() => devices.id),
    outcome: text('outcome', { enum: INSTALL_OUTCOMES }),
    reportedAt: timestamp('reported_at', { withTimezone: true }),
    addedAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.versionId, t.deviceId] }), index('rollout_devices_device').on(t.deviceId)],
);

export const TOKEN_ROLES = ['admin', 'publisher', 'device'] as const;
export type TokenRole = (typeof TOKEN_ROLES)[number];

/** API tokens, stored as the SHA-256 of the token (tokens are 256-bit random, so a fast hash is enough). */
export const apiTokens = pgTable('api_tokens', {
  id: serial('id').primaryKey(),
  tokenSha256: text('token_sha256').notNull().unique(),
  role: text('role', { enum: TOKEN_ROLES }).notNull(),
  deviceId: integer('device_id').references(() => devices.id),
  label: text('label').notNull(),
  revokedAt: timestamp('revoked_at', { withTimezone: true }),
  createdAt: createdAt(),
});

/** Ed25519 public keys whose signatures the server accepts on published versions. */
export const publisherKeys = pgTable('publisher_keys', {
  keyId: text('key_id').primaryKey(),
  /** The public key as given at registration (SPKI DER). */
  publicKey: bytea('public_key').notNull(),
  label: text('label').notNull(),
  /** Set when an admin revoked the key: nothing signed with it is accepted from then on. */
  revokedAt: timestamp('revoked_at', { withTimezone: true }),
  createdAt: createdAt(),
});

/** Every change to a license, version, device, token or key. */
export const auditLog = pgTable('audit_log', {
  id: serial('id').primaryKey(),
  at: timestamp('at', { withTimezone: true }).notNull().default(sql`now()`),
  actorTokenId: integer('actor_token_id'),
  action: text('action').notNull(),
  entity: text('entity').notNull(),
  entityId: text('entity_id').notNull(),
  detail: jsonb('detail').$type<Record<string, unknown>>().notNull(),
});
