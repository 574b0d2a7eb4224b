import type { ApolloServerPlugin } from '@apollo/server';
import { newAuditRecord, type AuditRecord } from '../../datasources/cache/audit-store.js';
import type { RequestContext } from '../../resolvers/context.js';

/** The request header that carries the purpose of use (HL7 v3 PurposeOfUse codes: TREAT, HPAYMT, ...). */
export const PURPOSE_OF_USE_HEADER = 'x-purpose-of-use';

const PURPOSE = /^[A-Za-z][A-Za-z0-9_.:-]{0,63}$/;

/** The header's value as stored: as sent when it looks like a code, `INVALID` otherwise, null when absent. */
export function purposeOfUse(raw: string | undefined | null): string | null {
  if (raw === undefined || raw === null || raw.trim() === '') return null;
  return PURPOSE.test(raw.trim()) ? raw.trim() : 'INVALID';
}

/** The audit event of a request refused before execution: `denied` when a limit refused it, else `error`. */
export function rejectedRequestRecord(fields: {
  requestId: string;
  principal: { sub: string; role: string };
  purposeOfUse: string | null;
  operationName?: string | null;
  errors: readonly { extensions?: Record<string, unknown> }[];
  /** More non-PHI detail (the event streams add `transport`). */
  detail?: Record<string, unknown>;
}): AuditRecord {
  const codes = [...new Set(fields.errors.map((e) => String(e.extensions?.code ?? 'UNKNOWN')))].sort();
  const limits = [...new Set(fields.errors.map((e) => e.extensions?.limit).filter((l): l is string => typeof l === 'string'))].sort();
  return newAuditRecord({
    at: new Date(),
    requestId: fields.requestId,
    subject: fields.principal.sub,
    role: fields.principal.role,
    purposeOfUse: fields.purposeOfUse,
    action: 'request',
    patientIds: [],
    fieldGroups: [],
    outcome: limits.length > 0 ? 'denied' : 'error',
    detail: { ...(fields.operationName && { operationName: fields.operationName }), ...fields.detail, errorCodes: codes, ...(limits.length > 0 && { limits }) },
  });
}

function rejectedRequest(
  ctx: RequestContext,
  request: { http?: { headers: { get(name: string): string | undefined | null } } },
  operationName: string | null | undefined,
  errors: readonly { extensions?: Record<string, unknown> }[],
): AuditRecord {
  return rejectedRequestRecord({
    requestId: ctx.requestId,
    principal: ctx.principal,
    purposeOfUse: purposeOfUse(request.http?.headers.get(PURPOSE_OF_USE_HEADER)),
    operationName,
    errors,
  });
}

/**
 * Apollo plugin: when a request touched patient data (its audit trail says so), one audit
 * event is handed to `writer` as the response goes out. `record` only queues, so the
 * database write is not on the request's path.
 */
export function auditPlugin(writer: { record(event: AuditRecord): void }): ApolloServerPlugin<RequestContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ contextValue, response, request, operationName }) {
          const trail = contextValue.audit;
          if (!trail || !contextValue.principal) return;
          const single = response.body.kind === 'single' ? response.body.singleResult : undefined;
          if (!trail.touchesPatients) {
            // Refused before it ran (parse, validation, limits, bad variables): audited too,
            // with codes and limits only; the document itself may quote patient data.
            if (single && single.data === undefined && single.errors?.length) writer.record(rejectedRequest(contextValue, request, operationName, single.errors));
            return;
          }
          // Partial errors may not be merged into the response yet (plugin order): count them too.
          const errors = [...(single?.errors ?? []), ...(contextValue.partialErrors?.list ?? [])];
          const codes = [...new Set(errors.map((e) => String(e.extensions?.code ?? 'UNKNOWN')))].sort();
          const data = single?.data;
          const anyData = !!data && Object.values(data).some((v) => v !== null);
          const denied = [...trail.groupsDenied].sort();
          const outcome = denied.length > 0 ? 'denied' : errors.length === 0 ? 'success' : anyData ? 'partial' : 'error';
          const record = newAuditRecord({
            at: new Date(),
            requestId: contextValue.requestId,
            subject: contextValue.principal.sub,
            role: contextValue.principal.role,
            purposeOfUse: purposeOfUse(request.http?.headers.get(PURPOSE_OF_USE_HEADER)),
            action: 'read',
            patientIds: [...trail.patients].sort(),
            fieldGroups: [...new Set([...trail.groupsAsked, ...trail.groupsRead, ...trail.groupsDenied])].sort(),
            outcome,
            detail: {
              ...(operationName && { operationName }),
              lookups: [...trail.lookups].sort(),
              ...(trail.cohorts.length > 0 && { cohorts: trail.cohorts.map((c) => ({ criteria: plainJson(c.criteria), breakdowns: c.breakdowns })) }),
              ...(denied.length > 0 && { deniedGroups: denied }),
              ...(codes.length > 0 && { errorCodes: codes }),
            },
          });
          contextValue.repeat.audit = record;
          writer.record(record);
        },
      };
    },
  };
}

/** Input objects arrive with a null prototype; the audit detail stores plain JSON. */
function plainJson(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value ?? null));
}
