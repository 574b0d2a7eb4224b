import type { GraphQLSchema } from 'graphql';
import type { IMiddlewareTypeMap } from 'graphql-middleware';
import { deny, shield, type IRules } from 'graphql-shield';
import { ForbiddenError } from '../errors/errors.js';
import { auditPermissions } from './audit.js';
import { cacheAdminPermissions } from './cache-admin.js';
import { clinicalPermissions } from './clinical.js';
import { cohortPermissions } from './cohort.js';
import { identityPermissions } from './identity.js';
import { eligibilityPermissions } from './eligibility.js';
import { eventPermissions } from './events.js';
import { patientPermissions } from './patient.js';
import { isAuthenticated } from './rules.js';
import { sourcePermissions } from './sources.js';

type RuleMap = Record<string, unknown>;

/** Merges the per-area rule maps; two areas naming the same field is a mistake, not an override. */
export function mergeRuleMaps(...maps: Record<string, RuleMap | unknown>[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const map of maps) {
    for (const [type, rules] of Object.entries(map)) {
      const existing = out[type];
      if (existing === undefined) {
        out[type] = rules;
      } else if (isFieldMap(existing) && isFieldMap(rules)) {
        for (const field of Object.keys(rules)) {
          if (field in existing) throw new Error(`permission for ${type}.${field} is declared twice`);
        }
        out[type] = { ...existing, ...rules };
      } else {
        throw new Error(`permission for type ${type} is declared twice`);
      }
    }
  }
  return out;
}

function isFieldMap(value: unknown): value is RuleMap {
  return typeof value === 'object' && value !== null && value.constructor === Object;
}

/** Every field rule of the schema, by type then field (or one rule for a whole type). */
export const ruleTree = mergeRuleMaps(patientPermissions, clinicalPermissions, sourcePermissions, auditPermissions, cacheAdminPermissions, eligibilityPermissions, identityPermissions, cohortPermissions, eventPermissions);

/** The graphql-shield middleware: anything without a rule is denied. */
export function buildPermissions() {
  return shield(ruleTree as IRules, {
    fallbackRule: deny,
    fallbackError: () => new ForbiddenError(),
    // Our own typed errors (UPSTREAM_*, BAD_USER_INPUT, ...) pass through unchanged;
    // formatError masks anything else.
    allowExternalErrors: true,
  });
}

/**
 * The shield middleware as a field map for `applyMiddleware`, without the types whose only
 * rule is `isAuthenticated`. Every GraphQL request is authenticated before it executes (the
 * context factory refuses one without a valid token), so that rule cannot fail there, while
 * wrapping every field of every clinical item, coding and page in an async rule check is
 * most of what shield costs. The rule stays in the tree (the schema walk checks it) and
 * protects those types should they ever be reached another way. Types with any other rule,
 * and every field with its own rule, stay wrapped.
 */
export function buildPermissionMiddleware(schema: GraphQLSchema): IMiddlewareTypeMap {
  const map = { ...(buildPermissions().generate(schema) as IMiddlewareTypeMap) };
  for (const [type, rule] of Object.entries(ruleTree)) {
    if (rule === isAuthenticated) delete map[type];
  }
  return map;
}

