import type { SearchParams } from './fhir-types.js';

/**
 * Escapes one FHIR search value so that it is read literally.
 *
 * FHIR gives `,` (OR), `$` (composite) and `|` (token system separator) a meaning inside a
 * value, and `\` escapes them. User input put into a search unescaped could turn
 * `patient=123` into `patient=123,456` and widen the search to someone else's record, so
 * every value that comes from outside goes through here. `\` goes first, or the
 * backslashes added for the others would themselves be doubled.
 */
export function escapeSearchValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/[,$|]/g, (c) => `\\${c}`);
}

/** The inverse of {@link escapeSearchValue}: `\x` becomes `x`. */
export function unescapeSearchValue(value: string): string {
  return value.replace(/\\(.)/gs, '$1');
}

/**
 * Splits a search value on the separator where it is not escaped (FHIR `,` for OR lists,
 * `|` for tokens). The parts stay escaped.
 */
export function splitUnescaped(value: string, separator: ',' | '|' | '$'): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '\\' && i + 1 < value.length) {
      current += c + value[i + 1];
      i++;
    } else if (c === separator) {
      parts.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  parts.push(current);
  return parts;
}

/**
 * A token search value `system|code`, both parts escaped. With `system` undefined the
 * result is the bare code (any system matches); with `system` the empty string it is
 * `|code`, which FHIR reads as "code with no system".
 */
export function tokenParam(system: string | undefined, code: string): string {
  const escapedCode = escapeSearchValue(code);
  return system === undefined ? escapedCode : `${escapeSearchValue(system)}|${escapedCode}`;
}

/** A parsed token: `system` undefined means "any system", `''` means "no system". */
export interface ParsedToken {
  system?: string;
  code: string;
}

/** Parses a token built by {@link tokenParam} (or typed by a user) back into its parts, unescaped. */
export function parseToken(token: string): ParsedToken {
  const parts = splitUnescaped(token, '|');
  if (parts.length === 1) return { code: unescapeSearchValue(parts[0]) };
  // More than one unescaped `|` is not a valid token; keep everything after the first as the code.
  return { system: unescapeSearchValue(parts[0]), code: unescapeSearchValue(parts.slice(1).join('|')) };
}

/**
 * The query string for search parameters, `application/x-www-form-urlencoded` as
 * URLSearchParams writes it. Values must already be FHIR-escaped where they come from users.
 */
export function buildSearchQuery(params: SearchParams): string {
  const query = new URLSearchParams();
  for (const [name, value] of params) query.append(name, value);
  return query.toString();
}

/**
 * A stable name for a query shape: the same parameters in any order give the same key.
 * Used in DataLoader and cache keys, so two resolvers asking for the same thing share one
 * upstream call and one cache entry. The empty shape is `''`.
 */
export function shapeKey(params: SearchParams | undefined): string {
  if (!params || params.length === 0) return '';
  const sorted = [...params].sort(([an, av], [bn, bv]) => (an < bn ? -1 : an > bn ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  return buildSearchQuery(sorted);
}
