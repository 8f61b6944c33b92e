// Reading key files given on the command line. A private key where a public
// one is expected is refused: node would happily derive the public half, so a
// `--pubkey weightgate.key` would "work" while the secret travels or sits
// where it should not (a server, a device).
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { createPrivateKey } from 'node:crypto';
import { UsageError } from './errors.ts';

/** A private key given where a public key belongs (exit 2). */
export class PrivateKeyError extends Error {
  readonly code = 'PRIVATE_KEY';
  readonly exitCode = 2;
  constructor(path: string, flag: string) {
    const pub = basename(path).replace(/\.key$/, '.pub');
    super(
      `${path} is a private key; ${flag} takes the public key (${pub === basename(path) ? 'weightgate.pub' : pub}, SPKI PEM), and the private key never leaves this machine`,
    );
    this.name = 'PrivateKeyError';
  }
}

export function isPrivateKeyText(text: string): boolean {
  if (/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(text)) return true;
  try {
    createPrivateKey(text);
    return true;
  } catch {
    return false;
  }
}

/** The text of a public key file for `flag`; refuses a private key and an unreadable file. */
export function readPublicKeyFile(path: string, flag: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`${flag} ${path}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  if (isPrivateKeyText(text)) throw new PrivateKeyError(path, flag);
  return text;
}
