// What every route factory receives: the database and the server's settings
// and caches. Handlers take their `db` from here, never from a module global.
import type { Db } from './db/connect.ts';
import { ByteCache, TtlCache } from './ttl-cache.ts';
import type { Principal } from './auth.ts';
import type { ArtifactRecord, PatchRecord, VersionInfo } from './store/artifact-store.ts';
import type { Manifest, ReleaseParts } from '../formats/index.ts';
import type { licenses } from './db/schema.ts';
import type { ChangeEvent } from './push/notices.ts';
import type { Offer } from './store/rollouts.ts';
import { createDeviceStateWriter, type DeviceStateWriter } from './store/device-states.ts';

export type LicenseRow = typeof licenses.$inferSelect;

/**
 * A device polling with an unchanged state updates its last-seen time at most
 * this often: one row written per poll would make every update-check a write
 * (and, for one busy device, a row-lock queue).
 */
export const LAST_SEEN_RESOLUTION_MS = 5_000;

export interface ServerSettings {
  allowUnsigned: boolean;
  maxBodyBytes: number;
  /** How long a token's or license's lookup is reused on the download path (ms). */
  authCacheMs: number;
  /** Upper bound of the artifact/patch bytes kept in memory. */
  contentCacheBytes: number;
  /** The MQTT broker devices subscribe to for push notices, and the topic prefix; null when the server pushes nothing. Set at start. */
  push?: { url: string; prefix: string } | null;
}

/**
 * What a write can change: 'all' (a token revoked: the token lookups too),
 * or 'lookups' (licenses, versions, rollouts: everything but the token
 * lookups, which hold only a token's role, device and that device's license,
 * none of which those writes change). So a license change does not make
 * every device's next check look its token up again.
 */
export type InvalidationScope = 'all' | 'lookups';

export interface ServerCaches {
  principals: TtlCache<string, Principal>;
  licenses: TtlCache<number, LicenseRow>;
  versions: TtlCache<number, VersionInfo>;
  artifacts: TtlCache<string, ArtifactRecord>;
  /** (version id, intervals key) -> artifact record; immutable. */
  assembled: TtlCache<string, ArtifactRecord>;
  /** (version id, intervals key) -> artifact bytes, for queries that only need the size; immutable. */
  sizes: TtlCache<string, number>;
  /** model id -> the published versions its devices may be offered, newest first (store/rollouts.ts); changes on release, withdraw and rollout changes. */
  latest: TtlCache<number, Offer[]>;
  modelNames: TtlCache<number, string>;
  /** "<model id>:<version number>" -> version id; immutable once the version exists. */
  versionIds: TtlCache<string, number>;
  /**
   * Fast path: "<authorization header> <url>" that passed the access check ->
   * until when (ms: the license's expiry, or Infinity); kept for authCacheMs.
   */
  decisions: TtlCache<string, number>;
  /** device id -> the state it last reported, for LAST_SEEN_RESOLUTION_MS: repeats inside it skip the write. */
  reported: TtlCache<number, string>;
  parts: TtlCache<number, ReleaseParts>;
  /** version id -> its parsed manifest (the parts' bytes, verified at publish); immutable. */
  manifests: TtlCache<number, Manifest>;
  content: ByteCache;
}

/** Work in progress on this server, shared by concurrent requests. */
export interface ServerWork {
  /** (from>to) -> the patch being built: concurrent first requests wait for one build. */
  patchFlights: Map<string, Promise<{ record: PatchRecord; bytes: Uint8Array }>>;
  /** Patches this server built (diffed), not found: for tests and the bench. */
  patchesBuilt: number;
  /** Artifact lookups (or assemblies) that went to the database, not a cache or a shared flight: for tests. */
  artifactLoads: number;
}

export interface ServerContext {
  db: Db;
  settings: ServerSettings;
  caches: ServerCaches;
  work: ServerWork;
  /** Device-reported state, written in batches (store/device-states.ts). */
  deviceStates: DeviceStateWriter;
  /**
   * After a write on this server: forget what it can change, here and
   * (through `onInvalidate`, PostgreSQL's NOTIFY) on every other server
   * instance on the same database.
   */
  invalidate(scope?: InvalidationScope): void;
  /** Forget what can change, here only (another instance wrote). */
  forget(scope?: InvalidationScope): void;
  /**
   * After a write that can change what devices should run (a version
   * released or withdrawn, a license or device changed): the push notices
   * it causes are sent from here, by this instance only. Call after invalidate().
   */
  changed(event: ChangeEvent): void;
}

export function createContext(
  db: Db,
  settings: ServerSettings,
  onInvalidate?: (scope: InvalidationScope) => void,
  onChange?: (event: ChangeEvent) => void,
): ServerContext {
  const caches: ServerCaches = {
    // Sized for a fleet: a device's token stays cached between its checks.
    principals: new TtlCache(100_000, settings.authCacheMs),
    licenses: new TtlCache(100_000, settings.authCacheMs),
    versions: new TtlCache(1_000, settings.authCacheMs),
    // Artifact records and release parts are immutable: kept until evicted.
    artifacts: new TtlCache(10_000, Infinity),
    assembled: new TtlCache(10_000, Infinity),
    sizes: new TtlCache(10_000, Infinity),
    latest: new TtlCache(1_000, settings.authCacheMs),
    modelNames: new TtlCache(1_000, Infinity),
    versionIds: new TtlCache(10_000, Infinity),
    decisions: new TtlCache(100_000, settings.authCacheMs),
    reported: new TtlCache(100_000, LAST_SEEN_RESOLUTION_MS),
    parts: new TtlCache(16, Infinity),
    manifests: new TtlCache(64, Infinity),
    content: new ByteCache(settings.contentCacheBytes),
  };
  const forget = (scope: InvalidationScope = 'all'): void => {
    if (scope === 'all') caches.principals.clear();
    caches.licenses.clear();
    caches.versions.clear();
    caches.latest.clear();
    caches.decisions.clear();
  };
  return {
    db,
    settings,
    caches,
    work: { patchFlights: new Map(), patchesBuilt: 0, artifactLoads: 0 },
    deviceStates: createDeviceStateWriter(db),
    invalidate(scope = 'all') {
      forget(scope);
      onInvalidate?.(scope);
    },
    forget,
    changed(event) {
      onChange?.(event);
    },
  };
}
