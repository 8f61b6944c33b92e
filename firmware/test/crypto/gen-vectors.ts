/**
 * gen-vectors.ts: test vectors for the firmware crypto, from node:crypto.
 *
 *   npx tsx firmware/test/crypto/gen-vectors.ts <out-file>
 *
 * Deterministic (fixed seed): the same file on every run. One vector a line,
 * hex fields, "-" for an empty message:
 *   sha256 <digest> <msg>
 *   sha512 <digest> <msg>
 *   ed25519 <class> <node> <expect> <public-key> <signature> <msg>
 * <node> is what node:crypto's crypto.verify said (1 valid, 0 not, also 0
 * when it refused the key). <expect> is what the firmware must say: node's
 * answer, except in the classes of POLICY_REJECT, where the firmware follows
 * libsodium and rejects small-order and non-canonical keys and small-order
 * R whatever node says (see firmware/src/crypto/wg_ed25519.c).
 *
 * The edge cases are built with a small BigInt model of edwards25519 (RFC
 * 8032 section 5.1), checked against node on every honest key.
 */
import crypto from 'node:crypto';
import { writeFileSync } from 'node:fs';

const SEED = 'weightgate firmware crypto vectors v1';

/* ---- deterministic bytes: SHA-256(seed || counter) ---------------------------- */
let counter = 0;
let pool = Buffer.alloc(0);
function randomBytes(n: number): Buffer {
  while (pool.length < n) {
    const block = crypto.createHash('sha256').update(`${SEED}/${counter++}`).digest();
    pool = Buffer.concat([pool, block]);
  }
  const out = pool.subarray(0, n);
  pool = pool.subarray(n);
  return Buffer.from(out);
}
function randomInt(n: number): number {
  return randomBytes(4).readUInt32LE(0) % n;
}

/* ---- edwards25519 in BigInt ------------------------------------------------------ */
const P = 2n ** 255n - 19n;
const L = 2n ** 252n + 27742317777372353535851937790883648493n;
const mod = (a: bigint, m: bigint = P): bigint => ((a % m) + m) % m;
function pow(b: bigint, e: bigint, m: bigint = P): bigint {
  let r = 1n;
  b = mod(b, m);
  while (e > 0n) {
    if (e & 1n) r = (r * b) % m;
    b = (b * b) % m;
    e >>= 1n;
  }
  return r;
}
const inv = (a: bigint): bigint => pow(a, P - 2n);
const D = mod(-121665n * inv(121666n));
const SQRTM1 = pow(2n, (P - 1n) / 4n);

type Pt = { X: bigint; Y: bigint; Z: bigint; T: bigint };
const IDENTITY: Pt = { X: 0n, Y: 1n, Z: 1n, T: 0n };
function add(p: Pt, q: Pt): Pt {
  // RFC 8032 section 5.1.4
  const A = mod((p.Y - p.X) * (q.Y - q.X));
  const B = mod((p.Y + p.X) * (q.Y + q.X));
  const C = mod(2n * p.T * q.T * D);
  const Dd = mod(2n * p.Z * q.Z);
  const E = B - A, F = Dd - C, G = Dd + C, H = B + A;
  return { X: mod(E * F), Y: mod(G * H), T: mod(E * H), Z: mod(F * G) };
}
function mul(k: bigint, p: Pt): Pt {
  let r = IDENTITY;
  let q = p;
  while (k > 0n) {
    if (k & 1n) r = add(r, q);
    q = add(q, q);
    k >>= 1n;
  }
  return r;
}
const neg = (p: Pt): Pt => ({ X: mod(-p.X), Y: p.Y, Z: p.Z, T: mod(-p.T) });
function affine(p: Pt): { x: bigint; y: bigint } {
  const zi = inv(p.Z);
  return { x: mod(p.X * zi), y: mod(p.Y * zi) };
}
const isIdentity = (p: Pt): boolean => { const a = affine(p); return a.x === 0n && a.y === 1n; };
function le(n: bigint, len = 32): Buffer {
  const b = Buffer.alloc(len);
  for (let i = 0; i < len; i++) { b[i] = Number(n & 0xffn); n >>= 8n; }
  return b;
}
function fromLe(b: Buffer): bigint {
  let n = 0n;
  for (let i = b.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(b[i]);
  return n;
}
function encodeXY(x: bigint, y: bigint): Buffer {
  const b = le(y);
  if (x & 1n) b[31] |= 0x80;
  return b;
}
const encode = (p: Pt): Buffer => { const a = affine(p); return encodeXY(a.x, a.y); };
/** x for a y (RFC 8032 section 5.1.3 steps 2-3), or null when none. */
function recoverX(y: bigint): bigint | null {
  const u = mod(y * y - 1n), v = mod(D * y * y + 1n);
  let x = mod(u * pow(v, 3n) * pow(u * pow(v, 7n), (P - 5n) / 8n));
  const vx2 = mod(v * x * x);
  if (vx2 === u) return x;
  if (vx2 === mod(-u)) return mod(x * SQRTM1);
  return null;
}
function pointFromXY(x: bigint, y: bigint): Pt { return { X: x, Y: y, Z: 1n, T: mod(x * y) }; }
function withSign(x: bigint, sign: number): bigint { return (Number(x & 1n) === sign) ? x : mod(-x); }

const BASE = pointFromXY(withSign(recoverX(mod(4n * inv(5n)))!, 0), mod(4n * inv(5n)));

/* A point of order 8: [L]Q for points Q until one has order 8 (E = Z/8 x Z/L). */
function findOrder8(): Pt {
  for (let y = 2n; ; y++) {
    const x = recoverX(y);
    if (x === null) continue;
    const t = mul(L, pointFromXY(x, y));
    if (!isIdentity(mul(4n, t))) return t;
  }
}
const T8 = findOrder8();
const TORSION: Pt[] = [];
for (let i = 0n; i < 8n; i++) TORSION.push(mul(i, T8));
function orderOf(t: Pt): number {
  for (const n of [1, 2, 4, 8]) if (isIdentity(mul(BigInt(n), t))) return n;
  throw new Error('not a torsion point');
}

/* ---- node:crypto ----------------------------------------------------------------- */
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
interface Key { seed: Buffer; a: bigint; pk: Buffer; priv: crypto.KeyObject }
function keyFromSeed(seed: Buffer): Key {
  const priv = crypto.createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  const pk = Buffer.from(crypto.createPublicKey(priv).export({ format: 'der', type: 'spki' }).subarray(12));
  // RFC 8032 section 5.1.5: the secret scalar is the clamped first half of SHA-512(seed)
  const h = crypto.createHash('sha512').update(seed).digest();
  h[0] &= 248; h[31] &= 127; h[31] |= 64;
  const a = fromLe(h.subarray(0, 32));
  if (!encode(mul(a, BASE)).equals(pk)) throw new Error('BigInt model disagrees with node on a public key');
  return { seed, a, pk, priv };
}
let nodeRefusedKeys = 0;
function nodeVerify(pk: Buffer, msg: Buffer, sig: Buffer): boolean {
  let key: crypto.KeyObject;
  try {
    key = crypto.createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: pk.toString('base64url') }, format: 'jwk' });
  } catch {
    nodeRefusedKeys++;
    return false;
  }
  return crypto.verify(null, msg, key, sig);
}
const challenge = (r: Buffer, pk: Buffer, msg: Buffer): bigint =>
  mod(fromLe(crypto.createHash('sha512').update(Buffer.concat([r, pk, msg])).digest()), L);
const randomScalar = (): bigint => mod(fromLe(randomBytes(64)), L);
const sigOf = (r: Buffer, s: bigint): Buffer => Buffer.concat([r, le(s)]);

/* ---- vectors ---------------------------------------------------------------------- */
const POLICY_REJECT = new Set([
  'small-order-a', 'small-order-a-neg-zero', 'small-order-r', 'small-order-r-mixed-a',
  'non-canonical-a', 'zero-s-identity',
]);
const lines: string[] = [];
const hex = (b: Buffer): string => (b.length ? b.toString('hex') : '-');
const summary = new Map<string, { n: number; node: number; expect: number }>();

/** Records a vector; `cofactorless` is what a permissive cofactorless verifier
 * (OpenSSL) must answer by construction, checked against node. */
function ed(cls: string, pk: Buffer, sig: Buffer, msg: Buffer, cofactorless?: boolean): void {
  const node = nodeVerify(pk, msg, sig);
  if (cofactorless !== undefined && node !== cofactorless)
    throw new Error(`${cls}: node says ${node}, the construction says ${cofactorless}`);
  const expect = POLICY_REJECT.has(cls) ? false : node;
  lines.push(`ed25519 ${cls} ${+node} ${+expect} ${pk.toString('hex')} ${sig.toString('hex')} ${hex(msg)}`);
  const s = summary.get(cls) ?? { n: 0, node: 0, expect: 0 };
  s.n++; s.node += +node; s.expect += +expect;
  summary.set(cls, s);
}
function flip(b: Buffer, bit: number): Buffer {
  const c = Buffer.from(b);
  c[bit >> 3] ^= 1 << (bit & 7);
  return c;
}

// SHA-2 over random messages, every length class around the block sizes
const shaLengths = [0, 1, 3, 55, 56, 57, 63, 64, 65, 111, 112, 113, 119, 120, 127, 128, 129, 191, 192, 255, 256, 1000, 4097];
for (let i = 0; i < 16; i++) shaLengths.push(randomInt(700));
for (const n of shaLengths) {
  const m = randomBytes(n);
  lines.push(`sha256 ${crypto.createHash('sha256').update(m).digest('hex')} ${hex(m)}`);
  lines.push(`sha512 ${crypto.createHash('sha512').update(m).digest('hex')} ${hex(m)}`);
}

// honest signatures: random keys, messages of many lengths (some large)
const keys: Key[] = [];
for (let i = 0; i < 24; i++) keys.push(keyFromSeed(randomBytes(32)));
const msgLengths = [0, 1, 2, 31, 32, 33, 63, 64, 65, 95, 96, 97, 127, 128, 129, 200, 255, 256, 1023, 1024, 4096, 10000];
for (let i = 0; i < 42; i++) msgLengths.push(randomInt(400));
const valid: { pk: Buffer; sig: Buffer; msg: Buffer; key: Key }[] = [];
msgLengths.forEach((n, i) => {
  const key = keys[i % keys.length];
  const msg = randomBytes(n);
  const sig = crypto.sign(null, msg, key.priv);
  valid.push({ pk: key.pk, sig, msg, key });
  ed('valid', key.pk, sig, msg, true);
});

// one flipped bit: message, R, S (the low 253 bits), public key
for (const [i, v] of valid.slice(0, 24).entries()) {
  if (v.msg.length) ed('flip-msg', v.pk, v.sig, flip(v.msg, randomInt(v.msg.length * 8)), false);
  ed('flip-r', v.pk, flip(v.sig, randomInt(256)), v.msg, false);
  ed('flip-s', v.pk, flip(v.sig, 256 + randomInt(253)), v.msg, false);
  ed('flip-a', flip(v.pk, i < 8 ? 255 : randomInt(256)), v.sig, v.msg, false);
}

// non-canonical S: S + L (the same scalar mod L), S = L, S + 2^253, S = 2^256 - 1
for (const v of valid.slice(0, 8)) {
  const r = v.sig.subarray(0, 32), s = fromLe(v.sig.subarray(32));
  ed('s-plus-l', v.pk, sigOf(r, s + L), v.msg, false);
  ed('s-equal-l', v.pk, sigOf(r, L), v.msg, false);
  ed('s-high-bit', v.pk, sigOf(r, s + 2n ** 253n), v.msg, false);
}
ed('s-all-ones', valid[0].pk, Buffer.concat([valid[0].sig.subarray(0, 32), Buffer.alloc(32, 0xff)]), valid[0].msg, false);

// R or A not on the curve (y with no x), both signs
function offCurve(): Buffer {
  for (;;) {
    const y = mod(fromLe(randomBytes(32)) & (2n ** 255n - 1n));
    if (recoverX(y) === null) { const b = le(y); if (randomInt(2)) b[31] |= 0x80; return b; }
  }
}
for (const v of valid.slice(0, 8)) {
  ed('r-off-curve', v.pk, Buffer.concat([offCurve(), v.sig.subarray(32)]), v.msg, false);
  ed('a-off-curve', offCurve(), v.sig, v.msg, false);
}

/** A message whose challenge k, with these R and A, satisfies want(k). */
function messageWhere(r: Buffer, pk: Buffer, want: (k: bigint) => boolean): { msg: Buffer; k: bigint } {
  for (;;) {
    const msg = randomBytes(1 + randomInt(80));
    const k = challenge(r, pk, msg);
    if (want(k)) return { msg, k };
  }
}

// small-order public keys: every point of order 1, 2, 4, 8, with R = [r]B,
// S = r, on a message whose k kills the key ([k]A = O): cofactorless holds.
for (const t of TORSION) {
  const pk = encode(t), n = BigInt(orderOf(t));
  for (let j = 0; j < 2; j++) {
    const r = randomScalar(), rEnc = encode(mul(r, BASE));
    const { msg } = messageWhere(rEnc, pk, (k) => k % n === 0n);
    ed('small-order-a', pk, sigOf(rEnc, r), msg, true);
  }
}
// the identity and the point of order 2 with x = 0 and the sign bit set
// ("negative zero", not an encoding under RFC 8032 section 5.1.3 step 4)
for (const y of [1n, P - 1n]) {
  const pk = le(y); pk[31] |= 0x80;
  const r = randomScalar(), rEnc = encode(mul(r, BASE));
  const { msg } = messageWhere(rEnc, pk, (k) => k % 2n === 0n);
  ed('small-order-a-neg-zero', pk, sigOf(rEnc, r), msg);
}
// A = R = identity, S = 0: [0]B = O + [k]O for any message
{
  const id = encode(IDENTITY);
  ed('zero-s-identity', id, sigOf(id, 0n), randomBytes(20), true);
}

// small-order R: the identity with an honest key (S = k a: [S]B = O + [k]A),
// and the other torsion points with a mixed-order key A = [a]B + T8 where
// R + [k]T8 = O
for (const key of keys.slice(0, 4)) {
  const rEnc = encode(IDENTITY);
  const msg = randomBytes(30);
  const k = challenge(rEnc, key.pk, msg);
  ed('small-order-r', key.pk, sigOf(rEnc, mod(k * key.a, L)), msg, true);
}
for (let j = 1; j < 8; j++) {
  const key = keys[j];
  const pkPt = add(mul(key.a, BASE), T8), pk = encode(pkPt);
  const rEnc = encode(TORSION[j]);
  const { msg, k } = messageWhere(rEnc, pk, (kk) => (BigInt(j) + kk) % 8n === 0n);
  ed('small-order-r-mixed-a', pk, sigOf(rEnc, mod(k * key.a, L)), msg, true);
}

// mixed-order key A = [a]B + T (T of order 2, 4, 8): cofactorless accepts iff
// [k]T = O. Both libsodium and OpenSSL are cofactorless: all must agree.
for (const [idx, t] of [TORSION[4], TORSION[2], TORSION[1], TORSION[3]].entries()) {
  const key = keys[8 + idx];
  const n = BigInt(orderOf(t));
  const pk = encode(add(mul(key.a, BASE), t));
  for (const want of [true, false]) {
    for (let j = 0; j < 2; j++) {
      const r = randomScalar(), rEnc = encode(mul(r, BASE));
      const { msg, k } = messageWhere(rEnc, pk, (kk) => (kk % n === 0n) === want);
      ed('mixed-a', pk, sigOf(rEnc, mod(r + k * key.a, L)), msg, want);
    }
  }
}
// mixed-order R = [r]B + T, S = r + k a: only a cofactored check accepts
for (const [idx, t] of TORSION.slice(1).entries()) {
  const key = keys[12 + (idx % 8)];
  const r = randomScalar(), rEnc = encode(add(mul(r, BASE), t));
  const msg = randomBytes(40);
  const k = challenge(rEnc, key.pk, msg);
  ed('mixed-r', key.pk, sigOf(rEnc, mod(r + k * key.a, L)), msg, false);
}

// non-canonical encodings (y >= p): of the small-order points with y = 0
// (order 4) and y = 1 (identity), signed so cofactorless holds; and of the
// other y < 19 on the curve (unknown discrete log: a random signature)
for (const y of [0n, 1n]) {
  for (const sign of y === 1n ? [0] : [0, 1]) {
    const pk = le(y + P); if (sign) pk[31] |= 0x80;
    const r = randomScalar(), rEnc = encode(mul(r, BASE));
    const { msg } = messageWhere(rEnc, pk, (k) => k % 4n === 0n);
    ed('non-canonical-a', pk, sigOf(rEnc, r), msg, true);
  }
}
for (let y = 2n; y < 19n; y++) {
  if (recoverX(y) === null) continue;
  const pk = le(y + P);
  ed('non-canonical-a-large', pk, valid[Number(y)].sig, valid[Number(y)].msg, false);
}
// R = non-canonical encoding of the identity with S = k a: the equation holds
// for the point, but the encodings differ, so everyone rejects
for (const key of keys.slice(4, 8)) {
  const rEnc = le(P + 1n);
  const msg = randomBytes(25);
  const k = challenge(rEnc, key.pk, msg);
  ed('non-canonical-r', key.pk, sigOf(rEnc, mod(k * key.a, L)), msg, false);
}

const header = [
  `# weightgate firmware crypto vectors, written by firmware/test/crypto/gen-vectors.ts`,
  `# node ${process.version}, OpenSSL ${process.versions.openssl}; seed "${SEED}"`,
  `# sha256 <digest> <msg> | sha512 <digest> <msg> | ed25519 <class> <node> <expect> <pk> <sig> <msg>`,
  `# classes where the firmware rejects whatever node says: ${[...POLICY_REJECT].join(' ')}`,
  `# node refused to import ${nodeRefusedKeys} of the public keys (counted as node 0)`,
  ...[...summary].map(([cls, s]) => `# ${cls}: ${s.n} vectors, node accepts ${s.node}, firmware must accept ${s.expect}`),
];
writeFileSync(process.argv[2] ?? 'crypto-vectors.txt', [...header, ...lines].join('\n') + '\n');
console.log(`gen-vectors: ${lines.length} vectors`);
