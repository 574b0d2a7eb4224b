import { createHash } from 'node:crypto';
import type { DetectedEvent } from './detect-events.js';

/**
 * The stable id of an event: a hash of the unified patient (when detected), the type, the
 * minute it happened and its code. It names no source, so the same admission reported by
 * two EHRs whose records are linked is one event; and it is the same on every replica and
 * after every restart, so a client can resume from it.
 */
export function eventIdOf(unifiedId: string, event: Pick<DetectedEvent, 'type' | 'occurredAt' | 'code'>): string {
  // Minute precision: two EHRs recording one admission rarely agree on the seconds.
  const minute = event.occurredAt.slice(0, 16);
  const digest = createHash('sha256').update(`${unifiedId}\n${event.type}\n${minute}\n${event.code}`).digest('base64url');
  return `evt_${digest.slice(0, 32)}`;
}

const EVENT_ID = /^evt_[A-Za-z0-9_-]{32}$/;

/** Whether a string can be an event id (cursors and `after` arguments are checked with it). */
export function isEventId(value: string): boolean {
  return EVENT_ID.test(value);
}
