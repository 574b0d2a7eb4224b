/** The roles a token can carry; PRODUCT.md ("Security") says what each may see. */
export const ROLES = ['clinician', 'care_coordinator', 'billing', 'analyst', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/** Who is asking, from a verified bearer token. */
export interface Principal {
  /** The token's subject (user or client id). */
  sub: string;
  role: Role;
  /** SMART v2 scopes granted by the token (`user/Observation.rs`, `system/*.rs`, ...). */
  scopes: readonly string[];
}
