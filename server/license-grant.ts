// Which intervals a license grants at a given version, and whether it is in
// force. Pure functions: the routes load the rows, these decide.
import type { LicenseRow } from './context.ts';
import { conflict, forbidden } from './http-error.ts';

export interface VersionTiers {
  number: number;
  /** Every interval id of the version, ascending. */
  intervals: number[];
  tiers: Array<{ name: string; intervals: number[] }>;
}

/** Throws 403 LICENSE_REVOKED / LICENSE_EXPIRED when the license is not in force at `now`. */
export function assertLicenseActive(license: LicenseRow, now: Date): void {
  if (license.revokedAt !== null) {
    throw forbidden('LICENSE_REVOKED', `license ${license.id} was revoked at ${license.revokedAt.toISOString()}`);
  }
  if (license.expiresAt !== null && license.expiresAt.getTime() <= now.getTime()) {
    throw forbidden('LICENSE_EXPIRED', `license ${license.id} expired at ${license.expiresAt.toISOString()}; an admin can extend it`);
  }
}

/** The interval ids (ascending) the license grants at `version`. */
export function grantedIntervals(license: LicenseRow, version: VersionTiers): number[] {
  if (license.tier !== null) {
    const tier = version.tiers.find((t) => t.name === license.tier);
    if (!tier) {
      const known = version.tiers.map((t) => t.name).join(', ');
      throw conflict('TIER_UNKNOWN', `license ${license.id} grants tier "${license.tier}", which version ${version.number} does not define (it has: ${known})`);
    }
    return sortedUnique(tier.intervals);
  }
  const available = new Set(version.intervals);
  return sortedUnique((license.intervals ?? []).filter((id) => available.has(id)));
}

/**
 * Whether a device under `license` may receive an artifact of `version`
 * holding `intervals`. A dynamic license may hold any subset of its grant
 * (a device part-way through a downgrade); a static license exactly its grant,
 * since its tier is baked into the delivered model.
 */
export function assertIntervalsGranted(license: LicenseRow, version: VersionTiers, intervals: number[]): void {
  const granted = grantedIntervals(license, version);
  const grantedSet = new Set(granted);
  const extra = intervals.filter((id) => !grantedSet.has(id));
  if (extra.length > 0) {
    throw forbidden(
      'INTERVALS_NOT_LICENSED',
      `license ${license.id} does not grant interval(s) ${extra.join(',')} of version ${version.number} (it grants ${granted.join(',') || 'none'})`,
    );
  }
  if (license.kind === 'static' && !sameIntervals(granted, intervals)) {
    throw forbidden(
      'STATIC_LICENSE',
      `license ${license.id} is static: its devices hold exactly intervals ${granted.join(',')}; changing the tier needs a dynamic license`,
    );
  }
}

/**
 * Whether (base version, held intervals) is an artifact a device can hold:
 * one of the base version's tiers, this license's grant at it, or all of its
 * intervals. Anything else is answered with no patch (the device downloads
 * the artifact), so forged interval lists cannot make the server assemble and
 * record up to 2^k artifacts per version.
 */
export function isPlausibleBase(license: LicenseRow, base: VersionTiers, held: number[]): boolean {
  if (sameIntervals(held, base.intervals)) return true;
  if (base.tiers.some((tier) => sameIntervals(held, sortedUnique(tier.intervals)))) return true;
  try {
    return sameIntervals(held, grantedIntervals(license, base));
  } catch {
    return false; // the license's tier does not exist in that version
  }
}

export function sortedUnique(ids: readonly number[]): number[] {
  return [...new Set(ids)].sort((a, b) => a - b);
}

export function sameIntervals(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function intervalsKey(ids: readonly number[]): string {
  return ids.join(',');
}
