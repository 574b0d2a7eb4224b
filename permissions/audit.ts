import { hasRole } from './rules.js';

// The audit trail names patients and who looked at them: admins only.
const admin = hasRole('admin');

export const auditPermissions = {
  Query: { auditEvents: admin },
  AuditEvent: admin,
  AuditEventConnection: admin,
  AuditEventEdge: admin,
};
