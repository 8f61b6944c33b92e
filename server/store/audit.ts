// The audit log: one row for every change to a license, version, device, token or key.
import type { Db } from '../db/connect.ts';
import { auditLog } from '../db/schema.ts';

export interface AuditEntry {
  actorTokenId: number | null;
  action: string;
  entity: 'license' | 'version' | 'device' | 'token' | 'publisher-key' | 'customer' | 'request';
  entityId: string | number;
  detail?: Record<string, unknown>;
}

export async function recordAudit(db: Db, entry: AuditEntry): Promise<void> {
  await db.insert(auditLog).values({
    actorTokenId: entry.actorTokenId,
    action: entry.action,
    entity: entry.entity,
    entityId: String(entry.entityId),
    detail: entry.detail ?? {},
  });
}
