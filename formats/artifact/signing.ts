// Ed25519 signing of the version manifest (Node's crypto), SHA-256 helpers.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { FormatError } from '../errors.ts';

export function sha256(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(bytes).digest());
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function generateKeyPair(): { privateKeyPem: string; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

function asPrivateKey(key: KeyObject | string): KeyObject {
  try {
    const k = typeof key === 'string' ? createPrivateKey(key) : key;
    if (k.type !== 'private' || k.asymmetricKeyType !== 'ed25519') throw new Error(`a ${k.type} ${k.asymmetricKeyType} key`);
    return k;
  } catch (error) {
    throw new FormatError('BAD_INPUT', `signing key is not an Ed25519 private key (PKCS#8 PEM): ${(error as Error).message}`);
  }
}

/** An Ed25519 public key object from a PEM or a key object (parse a PEM once, verify many times). */
export function publicKeyObject(key: KeyObject | string): KeyObject {
  return asPublicKey(key);
}

function asPublicKey(key: KeyObject | string): KeyObject {
  try {
    const k = typeof key === 'string' ? createPublicKey(key) : key.type === 'private' ? createPublicKey(key) : key;
    if (k.asymmetricKeyType !== 'ed25519') throw new Error(`a ${k.asymmetricKeyType} key`);
    return k;
  } catch (error) {
    throw new FormatError('BAD_INPUT', `public key is not an Ed25519 key (SPKI PEM): ${(error as Error).message}`);
  }
}

/** Ed25519 signature (64 bytes) over `bytes`; deterministic per RFC 8032. */
export function signBytes(bytes: Uint8Array, privateKey: KeyObject | string): Uint8Array {
  return new Uint8Array(sign(null, bytes, asPrivateKey(privateKey)));
}

export function verifyBytes(bytes: Uint8Array, signature: Uint8Array, publicKey: KeyObject | string): boolean {
  return verify(null, bytes, asPublicKey(publicKey), signature);
}

/** Short id of a public key: the first 8 bytes of SHA-256 over its SPKI DER, hex. */
export function keyIdOf(publicKey: KeyObject | string): string {
  const der = asPublicKey(publicKey).export({ type: 'spki', format: 'der' });
  return sha256Hex(new Uint8Array(der)).slice(0, 16);
}
