/**
 * Parsing of FHIR search parameter values: escaping, token and reference forms, dates as
 * ranges with prefixes. Follows FHIR R4 "Search" (3.1.1.4 and 3.1.1.5).
 */

/** A search request the server refuses (HTTP 400 with an OperationOutcome). */
export class SearchInputError extends Error {
  constructor(
    message: string,
    readonly status = 400,
    readonly issueCode: string = 'invalid',
  ) {
    super(message);
    this.name = 'SearchInputError';
  }
}

/**
 * Splits on `sep` where it is not escaped with a backslash, then unescapes `\,` `\$` `\|`
 * `\\` in each part. FHIR escapes these so that values may hold separators literally.
 */
export function splitEscaped(value: string, sep: ',' | '|' | '$'): string[] {
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '\\' && i + 1 < value.length) {
      // Keep the escape for now: a later split on another separator must still see it.
      cur += c + value[i + 1];
      i++;
    } else if (c === sep) {
      parts.push(cur);
      cur = '';
    } else cur += c;
  }
  parts.push(cur);
  return parts;
}

/** Removes FHIR search escapes: `\,` `\$` `\|` `\\` become the literal character. */
export function unescapeValue(value: string): string {
  return value.replace(/\\([,$|\\])/g, '$1');
}

/** The OR-list of one parameter occurrence, escapes kept for further splitting. */
export function splitOrList(value: string): string[] {
  return splitEscaped(value, ',');
}

/** A token value: `code`, `system|code`, `|code` (no system) or `system|` (any code). */
export interface TokenValue {
  /** undefined: any system; '': no system. */
  system?: string;
  /** undefined: any code (form `system|`). */
  code?: string;
}

/** Parses one (already OR-split) token value. */
export function parseToken(raw: string): TokenValue {
  const parts = splitEscaped(raw, '|');
  if (parts.length === 1) return { code: unescapeValue(parts[0]) };
  const system = unescapeValue(parts[0]);
  const code = unescapeValue(parts.slice(1).join('|'));
  return { system, ...(code !== '' && { code }) };
}

/** Parses a reference value (`Patient/x`, `x`, or an absolute URL) into type and id. */
export function parseReference(raw: string, typeModifier?: string): { type?: string; id: string } {
  const v = unescapeValue(raw);
  const segs = v.split('/').filter((s) => s !== '');
  // `_history` version suffixes name the same resource.
  const hist = segs.indexOf('_history');
  const s = hist >= 0 ? segs.slice(0, hist) : segs;
  if (s.length >= 2) return { type: s[s.length - 2], id: s[s.length - 1] };
  return { type: typeModifier, id: s[0] ?? '' };
}

/** A half-open time range [lo, hi) in epoch milliseconds. */
export interface TimeRange {
  lo: number;
  hi: number;
}

const DATE_RE = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

/**
 * The implicit range of a FHIR date, dateTime or instant: `2013` covers the whole year,
 * `2013-06-22T00:54:07+00:00` one second. Times without a zone are taken as UTC (the
 * sandbox's local time). Returns undefined for text that is not a FHIR date.
 */
export function dateRange(text: string): TimeRange | undefined {
  const m = DATE_RE.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, hh, mi, ss, frac, tz] = m;
  const year = Number(y);
  if (mo === undefined) return { lo: Date.UTC(year, 0, 1), hi: Date.UTC(year + 1, 0, 1) };
  const month = Number(mo) - 1;
  if (month < 0 || month > 11) return undefined;
  if (d === undefined) return { lo: Date.UTC(year, month, 1), hi: Date.UTC(year, month + 1, 1) };
  const day = Number(d);
  if (day < 1 || day > 31) return undefined;
  if (hh === undefined) return { lo: Date.UTC(year, month, day), hi: Date.UTC(year, month, day + 1) };
  let offsetMin = 0;
  if (tz && tz !== 'Z') {
    const sign = tz[0] === '-' ? -1 : 1;
    offsetMin = sign * (Number(tz.slice(1, 3)) * 60 + Number(tz.slice(4, 6)));
  }
  const ms = frac ? Number(frac.slice(0, 3).padEnd(3, '0')) : 0;
  const lo = Date.UTC(year, month, day, Number(hh), Number(mi), ss ? Number(ss) : 0, ms) - offsetMin * 60_000;
  const width = frac ? 1 : ss ? 1000 : 60_000;
  return { lo, hi: lo + width };
}

/** Search prefixes for ordered values (FHIR R4 3.1.1.4.1). */
export const DATE_PREFIXES = ['eq', 'ne', 'lt', 'gt', 'le', 'ge', 'sa', 'eb', 'ap'] as const;
export type DatePrefix = (typeof DATE_PREFIXES)[number];

/** A parsed date search value. */
export interface DateQuery {
  prefix: DatePrefix;
  range: TimeRange;
}

/** Parses `[prefix]date`; throws {@link SearchInputError} for anything else. */
export function parseDateQuery(raw: string, param: string): DateQuery {
  const v = unescapeValue(raw);
  const p = v.slice(0, 2) as DatePrefix;
  const hasPrefix = (DATE_PREFIXES as readonly string[]).includes(p);
  const text = hasPrefix ? v.slice(2) : v;
  const range = dateRange(text);
  // The value is not echoed: it may be a birth date.
  if (!range) throw new SearchInputError(`Parameter "${param}" needs a FHIR date, optionally with a prefix (eq, ne, lt, gt, le, ge, sa, eb, ap)`);
  return { prefix: hasPrefix ? p : 'eq', range };
}

/**
 * Whether a target range matches a date query, with the range semantics of FHIR R4
 * ("the range of the search value fully contains the range of the target value" for eq).
 */
export function matchesDate(q: DateQuery, t: TimeRange): boolean {
  const s = q.range;
  const contained = t.lo >= s.lo && t.hi <= s.hi;
  switch (q.prefix) {
    case 'eq':
      return contained;
    case 'ne':
      return !contained;
    case 'gt':
      return t.hi > s.hi;
    case 'lt':
      return t.lo < s.lo;
    case 'ge':
      return t.hi > s.hi || contained;
    case 'le':
      return t.lo < s.lo || contained;
    case 'sa':
      return t.lo >= s.hi;
    case 'eb':
      return t.hi <= s.lo;
    case 'ap': {
      // "Approximately": the spec leaves the margin to the server; 10% of the gap to now.
      const margin = Math.max(Math.abs(Date.now() - s.lo) * 0.1, 86_400_000);
      return t.lo < s.hi + margin && t.hi > s.lo - margin;
    }
  }
}

/** Lower-cases and strips accents, as FHIR string search is accent- and case-insensitive. */
export function normalizeString(s: string): string {
  return s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase();
}
