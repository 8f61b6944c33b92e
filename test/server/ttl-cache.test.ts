// TtlCache: fresh hits, single-flight loads, stale-while-revalidate inside a
// second TTL, and clear() winning over loads in flight. Time is faked.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { TtlCache } from '../../server/ttl-cache.ts';

function withClock<T>(run: (advance: (ms: number) => void) => Promise<T>): Promise<T> {
  const realNow = Date.now;
  let now = 1_000_000;
  Date.now = () => now;
  return run((ms) => (now += ms)).finally(() => {
    Date.now = realNow;
  });
}

test('concurrent misses share one load', async () => {
  const cache = new TtlCache<string, number>(10, 1000);
  let calls = 0;
  const loader = async () => {
    calls++;
    await new Promise((r) => setTimeout(r, 5));
    return 42;
  };
  const values = await Promise.all([cache.load('k', loader), cache.load('k', loader), cache.load('k', loader)]);
  assert.equal(values, [42, 42, 42]);
  assert.is(calls, 1);
  assert.is(cache.get('k'), 42);
});

test('inside the stale window the old value answers at once and one refresh replaces it', () =>
  withClock(async (advance) => {
    const cache = new TtlCache<string, string>(10, 1000);
    cache.set('token', 'v1');
    advance(1500); // past the TTL, inside the second TTL
    assert.is(cache.get('token'), undefined, 'get() answers fresh values only');
    let release!: (v: string) => void;
    let calls = 0;
    const loader = () => {
      calls++;
      return new Promise<string>((r) => (release = r));
    };
    assert.is(await cache.load('token', loader), 'v1');
    assert.is(await cache.load('token', loader), 'v1');
    assert.is(calls, 1);
    release('v2');
    await new Promise((r) => setTimeout(r, 0));
    assert.is(cache.get('token'), 'v2');
  }));

test('a refresh that finds nothing (a revoked token) drops the entry', () =>
  withClock(async (advance) => {
    const cache = new TtlCache<string, string>(10, 1000);
    cache.set('token', 'v1');
    advance(1500);
    await cache.load('token', async () => undefined);
    await new Promise((r) => setTimeout(r, 0));
    assert.is(await cache.load('token', async () => undefined), undefined);
  }));

test('past two TTLs a load waits for fresh data', () =>
  withClock(async (advance) => {
    const cache = new TtlCache<string, string>(10, 1000);
    cache.set('license', 'old');
    advance(2500);
    assert.is(await cache.load('license', async () => 'new'), 'new');
  }));

test('clear() forgets values and discards loads begun before it', async () => {
  const cache = new TtlCache<string, string>(10, 1000);
  let release!: (v: string) => void;
  const pending = cache.load('license', () => new Promise<string>((r) => (release = r)));
  cache.clear();
  release('before-clear');
  assert.is(await pending, 'before-clear');
  assert.is(cache.get('license'), undefined);
});

test('a TTL of 0 caches nothing', async () => {
  const cache = new TtlCache<string, number>(10, 0);
  let calls = 0;
  await cache.load('k', async () => ++calls);
  await cache.load('k', async () => ++calls);
  assert.is(calls, 2);
});

test.run();
