// Publisher public keys (Ed25519). An admin registers them; the server checks
// a published version's signature against them and holds no private key.
import { createPublicKey, type KeyObject } from 'node:crypto';
import { badRequest } from './http-error.ts';

/** DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410 §4): SEQUENCE, AlgorithmIdentifier 1.3.101.112, BIT STRING. */
const ED25519_SPKI_PREFIX = Uint8Array.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00]);

/** Parses a PEM, base64 SPKI DER or base64 raw 32-byte Ed25519 public key. */
export function parsePublisherKey(text: string): KeyObject {
  let key: KeyObject;
  try {
    if (text.includes('-----BEGIN')) {
      key = createPublicKey(text);
    } else {
      const raw = Buffer.from(text.trim(), 'base64');
      const der = raw.byteLength === 32 ? Buffer.concat([ED25519_SPKI_PREFIX, raw]) : raw;
      key = createPublicKey({ key: der, format: 'der', type: 'spki' });
    }
  } catch {
    throw badRequest(
      'BAD_PUBLIC_KEY',
      'body field "publicKey" is not a readable public key: give a PEM (SPKI) Ed25519 public key, or base64 of its SPKI DER or of its raw 32 bytes',
    );
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw badRequest('BAD_PUBLIC_KEY', `body field "publicKey" is a ${key.asymmetricKeyType} key; publisher keys are Ed25519`);
  }
  return key;
}

export function spkiDer(key: KeyObject): Uint8Array {
  return new Uint8Array(key.export({ format: 'der', type: 'spki' }));
}

export function keyFromDer(der: Uint8Array): KeyObject {
  return createPublicKey({ key: Buffer.from(der), format: 'der', type: 'spki' });
}
