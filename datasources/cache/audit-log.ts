import { randomUUID } from 'node:crypto';
import type { Prisma, PrismaClient } from './generated/client.js';

/** One audited action, as `recordAudit` writes it (no PHI: ids, roles and outcomes only). */
export interface AuditEventInput {
  requestId: string;
  /** Who: the token's subject. */
  subject: string;
  /** In which role. */
  role: string;
  /** `X-Purpose-Of-Use` header, when the request had one. */
  purposeOfUse?: string | null;
  /** `read`, `link`, `unlink`, `review-match`, ... */
  action: string;
  /** Unified patient ids touched. */
  patientIds: readonly string[];
  /** Field groups read (empty for administrative actions). */
  fieldGroups?: readonly string[];
  /** `success`, `partial`, `denied` or `error`. */
  outcome: 'success' | 'partial' | 'denied' | 'error';
  /** Non-PHI detail: operation name, source record keys, decision. */
  detail?: Prisma.InputJsonValue;
  /** Default: now. */
  at?: Date;
}

/** Writes one AuditEvent row. Works inside a transaction too (pass the transaction client). */
export async function recordAudit(prisma: PrismaClient | Prisma.TransactionClient, event: AuditEventInput): Promise<void> {
  await prisma.auditEvent.create({
    data: {
      id: randomUUID(),
      at: event.at ?? new Date(),
      requestId: event.requestId,
      subject: event.subject,
      role: event.role,
      purposeOfUse: event.purposeOfUse ?? null,
      action: event.action,
      patientIds: [...new Set(event.patientIds)],
      fieldGroups: [...(event.fieldGroups ?? [])],
      outcome: event.outcome,
      ...(event.detail !== undefined && { detail: event.detail }),
    },
  });
}
