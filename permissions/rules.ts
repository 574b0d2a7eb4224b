import { rule } from 'graphql-shield';
import type { Principal, Role } from './roles.js';

/** What the rules read from the request context; kept structural so permissions import nothing from datasources. */
export interface PermissionContext {
  principal?: Principal | null;
}

// graphql-shield refuses two rule objects with one name, so each named rule is made once.
const made = new Map<string, ReturnType<ReturnType<typeof rule>>>();
function once(name: string, make: () => ReturnType<ReturnType<typeof rule>>) {
  let r = made.get(name);
  if (!r) made.set(name, (r = make()));
  return r;
}

export const isAuthenticated = rule({ cache: 'contextual' })((_p, _a, ctx: PermissionContext) => !!ctx.principal);

/** Allows the listed roles. Role rules read only the token, so the per-request cache is safe. */
export function hasRole(...roles: Role[]) {
  const allowed = new Set<Role>(roles);
  const name = `hasRole(${roles.join(',')})`;
  return once(name, () =>
    rule(name, { cache: 'contextual' })((_p, _a, ctx: PermissionContext) => !!ctx.principal && allowed.has(ctx.principal.role)),
  );
}

// `patient/` scopes are left out on purpose: they grant access to the one patient of a
// SMART launch context, which chartgraph does not implement, so they grant nothing here.
// Scopes with v2 query restrictions (`user/Observation.rs?category=...`) do not match
// either: granting the whole type for them would widen what the issuer allowed.
const SCOPE = /^(user|system)\/(\*|[A-Za-z]+)\.([cruds]+|read|write|\*)$/;

/**
 * True when the SMART scopes grant reading `resourceType`: v2 (`user/Observation.rs`,
 * `system/*.rs`) or v1 (`user/Observation.read`, `user/*.*`) syntax. In v2 a read needs
 * the `r` permission (`.s` alone only searches); v1 `write` does not include reading.
 */
export function scopesAllowRead(scopes: readonly string[], resourceType: string): boolean {
  return scopes.some((scope) => {
    const m = SCOPE.exec(scope);
    if (!m) return false;
    const [, , type, perms] = m;
    const typeOk = type === '*' || type === resourceType;
    // `write` contains an r, but v1 `write` grants no reading.
    const readOk = perms === 'read' || perms === '*' || (perms !== 'write' && perms!.includes('r'));
    return typeOk && readOk;
  });
}

/** Allows reading a FHIR resource type when the token's SMART scopes grant it. */
export function canRead(resourceType: string) {
  const name = `canRead(${resourceType})`;
  return once(name, () =>
    rule(name, { cache: 'contextual' })((_p, _a, ctx: PermissionContext) => !!ctx.principal && scopesAllowRead(ctx.principal.scopes, resourceType)),
  );
}
