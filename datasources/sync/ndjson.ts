import { UpstreamError } from '../../errors/errors.js';
import type { FhirResource } from '../fhir/fhir-types.js';
import { isObject } from '../fhir/upstream-http.js';

/** One line longer than this fails the file rather than growing memory without bound. */
export const MAX_NDJSON_LINE_CHARS = 16 * 1024 * 1024;

/**
 * Parses an NDJSON body as it arrives, one FHIR resource per line, without holding the
 * whole file. Blank lines are skipped. A line that is not a JSON object with a
 * `resourceType` fails the file (its content is never quoted: it is patient data).
 * @throws UpstreamError
 */
export async function* parseNdjson(body: ReadableStream<Uint8Array>, sourceId: string): AsyncGenerator<FhirResource> {
  const decoder = new TextDecoder('utf-8');
  let buffered = '';
  let lineNo = 0;
  const parseLine = (line: string): FhirResource | undefined => {
    lineNo++;
    const text = line.endsWith('\r') ? line.slice(0, -1) : line;
    if (text.trim() === '') return undefined;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new UpstreamError(sourceId, 'UPSTREAM_UNAVAILABLE', { reason: `NDJSON line ${lineNo} is not JSON` });
    }
    if (!isObject(value) || typeof value.resourceType !== 'string') {
      throw new UpstreamError(sourceId, 'UPSTREAM_UNAVAILABLE', { reason: `NDJSON line ${lineNo} is not a FHIR resource` });
    }
    return value as unknown as FhirResource;
  };
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      buffered += done ? decoder.decode() : decoder.decode(value, { stream: true });
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const r = parseLine(buffered.slice(0, nl));
        buffered = buffered.slice(nl + 1);
        if (r) yield r;
      }
      if (buffered.length > MAX_NDJSON_LINE_CHARS) {
        throw new UpstreamError(sourceId, 'UPSTREAM_UNAVAILABLE', { reason: `NDJSON line ${lineNo + 1} is longer than ${MAX_NDJSON_LINE_CHARS} characters` });
      }
      if (done) break;
    }
    const last = parseLine(buffered);
    if (last) yield last;
  } finally {
    // Stops the download when the consumer stops early (an error, an abort).
    await reader.cancel().catch(() => undefined);
  }
}
