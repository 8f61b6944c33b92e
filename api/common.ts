// Field shapes the HTTP contracts share. zod only: this folder is imported by
// the server and by its clients (the device simulator among them).
import { z } from 'zod';

/** PostgreSQL integer: ids, version numbers. Larger values are refused before any query. */
export const INT4_MAX = 2_147_483_647;

/** A SHA-256 as the API writes it: 64 lowercase hex digits. */
export const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits (a SHA-256)');
