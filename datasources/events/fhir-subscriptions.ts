import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Logger } from 'pino';
import type { FhirSourceConfig } from '../../config/config.schema.js';
import type { PrismaClient } from '../cache/generated/client.js';
import { SmartTokenProvider } from '../fhir/smart-auth.js';

/** R4 Subscriptions Backport: the CapabilityStatement extension naming each topic a server offers. */
export const TOPIC_CANONICAL_EXTENSION = 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/capabilitystatement-subscriptiontopic-canonical';
const BACKPORT_PROFILE = 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-subscription';
const PAYLOAD_CONTENT = 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-payload-content';
/** Path of the gateway's rest-hook endpoint; the source id follows. */
export const NOTIFICATION_PATH = '/fhir/notifications';

/** Options of {@link SourceSubscriptions}. */
export interface SourceSubscriptionsOptions {
  prisma: PrismaClient;
  sources: readonly FhirSourceConfig[];
  /** The gateway's public base URL; unset: no subscriptions (polling only). */
  notificationBaseUrl?: string;
  logger: Logger;
  /** A source's subscription is in place (this replica's or another's). */
  onActive?: (sourceId: string) => void;
  fetch?: typeof fetch;
}

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * FHIR Subscriptions (R4 Backport, topic-based, rest-hook) at the sources that offer them, as
 * wake-up calls for the poller: a notification makes the source's poller search at once, so
 * events arrive in about a second instead of a poll interval, and the poll (at
 * `subscriptionPollSeconds`) still catches anything a lost notification would have carried.
 * The notifications are `id-only`: nothing clinical travels through them. One subscription per
 * source for all replicas: the first replica to claim the row creates it; each notification
 * carries a bearer secret whose hash is in the database, so any replica can check it.
 */
export class SourceSubscriptions {
  private readonly fetchFn: typeof fetch;
  private readonly secrets = new Map<string, Buffer>();

  constructor(private readonly opts: SourceSubscriptionsOptions) {
    this.fetchFn = opts.fetch ?? fetch;
  }

  /** Creates the missing subscriptions. Failures are logged; polling goes on regardless. */
  async start(): Promise<void> {
    if (!this.opts.notificationBaseUrl) return;
    await Promise.all(
      this.opts.sources.map((s) =>
        this.ensure(s).catch((err: unknown) => this.opts.logger.warn({ err, source: s.id }, 'FHIR Subscription could not be set up; polling only')),
      ),
    );
  }

  /** Whether a notification's Authorization header carries the secret of this source's subscription. */
  async verify(sourceId: string, authorization: string | undefined): Promise<boolean> {
    const m = authorization ? /^Bearer\s+(\S+)$/i.exec(authorization) : null;
    if (!m) return false;
    let expected = this.secrets.get(sourceId);
    if (!expected) {
      const row = await this.opts.prisma.eventSourceSubscription.findUnique({ where: { sourceId } });
      if (!row) return false;
      expected = Buffer.from(row.secretHash, 'hex');
      this.secrets.set(sourceId, expected);
    }
    const given = createHash('sha256').update(m[1]).digest();
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  private async ensure(source: FhirSourceConfig, retry = true): Promise<void> {
    const base = source.baseUrl.replace(/\/+$/, '');
    const topic = await this.offeredTopic(base);
    if (!topic) return;
    const endpoint = `${this.opts.notificationBaseUrl!.replace(/\/+$/, '')}${NOTIFICATION_PATH}/${source.id}`;
    const existing = await this.opts.prisma.eventSourceSubscription.findUnique({ where: { sourceId: source.id } });
    // A subscription made earlier (a restart) may be gone at the source (a restarted server
    // forgets it, an admin deleted it) or point at another endpoint: make a new one then.
    if (existing && existing.subscriptionId !== '' && retry && (existing.endpoint !== endpoint || !(await this.stillActive(source, base, existing.subscriptionId)))) {
      await this.opts.prisma.eventSourceSubscription.deleteMany({ where: { sourceId: source.id, subscriptionId: existing.subscriptionId } });
      this.secrets.delete(source.id);
      this.opts.logger.info({ source: source.id }, 'FHIR Subscription no longer active at the source; creating a new one');
      return this.ensure(source, false);
    }
    const secret = randomBytes(32).toString('base64url');
    const secretHash = createHash('sha256').update(secret).digest('hex');
    // Claim first: of replicas starting together, one creates the subscription.
    const claimed = await this.opts.prisma.$queryRawUnsafe<{ source_id: string }[]>(
      `INSERT INTO event_source_subscription (source_id, subscription_id, secret_hash, endpoint, created_at) VALUES ($1, '', $2, $3, now())
       ON CONFLICT (source_id) DO NOTHING RETURNING source_id`,
      source.id,
      secretHash,
      endpoint,
    );
    if (claimed.length === 0) {
      this.opts.onActive?.(source.id);
      return;
    }
    try {
      const body = {
        resourceType: 'Subscription',
        meta: { profile: [BACKPORT_PROFILE] },
        status: 'requested',
        reason: 'chartgraph care-coordination event feed',
        criteria: topic,
        channel: {
          type: 'rest-hook',
          endpoint,
          payload: 'application/fhir+json',
          _payload: { extension: [{ url: PAYLOAD_CONTENT, valueCode: 'id-only' }] },
          header: [`Authorization: Bearer ${secret}`],
        },
      };
      const headers: Record<string, string> = { 'content-type': 'application/fhir+json', accept: 'application/fhir+json' };
      const token = await this.token(source);
      if (token) headers.authorization = `Bearer ${token}`;
      const res = await this.fetchFn(`${base}/Subscription`, { method: 'POST', headers, body: JSON.stringify(body), signal: AbortSignal.timeout(source.timeoutMs) });
      const created = (await res.json().catch(() => null)) as Any | null;
      if (res.status < 200 || res.status > 299 || created?.resourceType !== 'Subscription' || typeof created.id !== 'string') {
        throw new Error(`Subscription create answered HTTP ${res.status}`);
      }
      await this.opts.prisma.eventSourceSubscription.update({ where: { sourceId: source.id }, data: { subscriptionId: created.id } });
      this.opts.logger.info({ source: source.id }, 'FHIR Subscription created; polling becomes the safety net');
      this.opts.onActive?.(source.id);
    } catch (err) {
      // Let a later start try again.
      await this.opts.prisma.eventSourceSubscription.deleteMany({ where: { sourceId: source.id, subscriptionId: '' } }).catch(() => undefined);
      throw err;
    }
  }

  /** Whether the source still has the subscription active; a source that cannot say now counts as yes. */
  private async stillActive(source: FhirSourceConfig, base: string, subscriptionId: string): Promise<boolean> {
    const headers: Record<string, string> = { accept: 'application/fhir+json' };
    const token = await this.token(source).catch(() => undefined);
    if (token) headers.authorization = `Bearer ${token}`;
    const res = await this.fetchFn(`${base}/Subscription/${encodeURIComponent(subscriptionId)}`, { headers, signal: AbortSignal.timeout(source.timeoutMs) }).catch(() => undefined);
    if (!res) return true;
    if (res.status === 404 || res.status === 410) return false;
    if (!res.ok) return true;
    const sub = (await res.json().catch(() => null)) as Any | null;
    return sub?.status !== 'off' && sub?.status !== 'error';
  }

  /** The first Backport topic the source's CapabilityStatement offers on Subscription, if any. */
  private async offeredTopic(base: string): Promise<string | undefined> {
    const res = await this.fetchFn(`${base}/metadata`, { headers: { accept: 'application/fhir+json' }, signal: AbortSignal.timeout(10_000) });
    if (!res.ok) return undefined;
    const cs = (await res.json().catch(() => null)) as Any | null;
    for (const rest of cs?.rest ?? []) {
      for (const r of rest.resource ?? []) {
        if (r.type !== 'Subscription') continue;
        const topic = (r.extension ?? []).find((e: Any) => e.url === TOPIC_CANONICAL_EXTENSION)?.valueCanonical;
        if (typeof topic === 'string') return topic;
      }
    }
    return undefined;
  }

  private async token(source: FhirSourceConfig): Promise<string | undefined> {
    if (source.auth.type === 'bearer') return source.auth.token;
    if (source.auth.type !== 'smart-backend') return undefined;
    const provider = new SmartTokenProvider(source.id, { ...source.auth, scope: `${source.auth.scope} system/Subscription.c` }, { fetch: this.fetchFn, timeoutMs: source.timeoutMs });
    return provider.getToken();
  }
}
