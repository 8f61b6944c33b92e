// A small bounded map with per-entry expiry. The server is stateless (all
// state is in the database); these caches only spare the hot download path a
// database round trip, so each is bounded in entries and, where the data can
// change (tokens, licenses), in age. Writes on this server clear them at once.

export class TtlCache<K, V> {
  private readonly entries = new Map<K, { value: V; expires: number }>();
  private readonly loading = new Map<K, Promise<V | undefined>>();
  /** Bumped by clear(): a load begun before it must not store what it read. */
  private generation = 0;
  constructor(
    private readonly maxEntries: number,
    /** Milliseconds an entry stays valid; Infinity for immutable data, 0 to disable. */
    private readonly ttlMs: number,
  ) {}

  /** A fresh value only (younger than the TTL). */
  get(key: K): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined || entry.expires < Date.now()) return undefined;
    return entry.value;
  }

  set(key: K, value: V): void {
    if (this.ttlMs <= 0) return;
    if (this.entries.size >= this.maxEntries && !this.entries.has(key)) {
      // Evict the oldest insertion: Map iterates in insertion order.
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(key, { value, expires: Date.now() + this.ttlMs });
  }

  /**
   * The cached value, or `loader()`'s, stored. Concurrent misses of one key
   * share a single load, so an expiry under load costs one query, not one
   * per waiting request. An entry past its TTL but within a second TTL is
   * returned at once while one background load refreshes it (stale while
   * revalidate): requests never wait on the refresh of a known token or
   * license — measured in bench/server, waiting doubled update-check's p99.
   * So a change made on another replica is seen within 2 x TTL.
   */
  async load(key: K, loader: () => Promise<V | undefined>): Promise<V | undefined> {
    const entry = this.entries.get(key);
    const now = Date.now();
    if (entry !== undefined && entry.expires >= now) return entry.value;
    if (entry !== undefined && entry.expires + this.ttlMs >= now) {
      this.refresh(key, loader).catch(() => {
        // The stale value keeps serving; the next load after the window retries and reports.
      });
      return entry.value;
    }
    return this.refresh(key, loader);
  }

  private refresh(key: K, loader: () => Promise<V | undefined>): Promise<V | undefined> {
    const pending = this.loading.get(key);
    if (pending) return pending;
    const generation = this.generation;
    const promise = loader().then(
      (value) => {
        if (generation !== this.generation) return value;
        this.loading.delete(key);
        if (value === undefined) this.entries.delete(key);
        else this.set(key, value);
        return value;
      },
      (error) => {
        if (generation === this.generation) this.loading.delete(key);
        throw error;
      },
    );
    this.loading.set(key, promise);
    return promise;
  }

  delete(key: K): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
    this.loading.clear();
    this.generation++;
  }
}

/** Immutable bytes and their SHA-256 (an artifact or a patch). */
export interface Content {
  data: Uint8Array;
  sha256: string;
}

/** Least-recently-used, bounded by the total byte size of the values (artifact and patch bytes). */
export class ByteCache {
  private readonly entries = new Map<string, Content>();
  private total = 0;
  constructor(private readonly maxBytes: number) {}

  get(key: string): Content | undefined {
    const value = this.entries.get(key);
    if (value !== undefined) {
      // Refresh recency: re-insert at the end.
      this.entries.delete(key);
      this.entries.set(key, value);
    }
    return value;
  }

  set(key: string, value: Content): void {
    const size = value.data.byteLength;
    if (size > this.maxBytes) return;
    const previous = this.entries.get(key);
    if (previous !== undefined) {
      this.total -= previous.data.byteLength;
      this.entries.delete(key);
    }
    while (this.total + size > this.maxBytes) {
      const oldest = this.entries.entries().next();
      if (oldest.done) break;
      this.total -= oldest.value[1].data.byteLength;
      this.entries.delete(oldest.value[0]);
    }
    this.entries.set(key, value);
    this.total += size;
  }
}
