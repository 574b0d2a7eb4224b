import { randomUUID } from 'node:crypto';
import type { FhirResource } from '../datasources/fhir/fhir-types.js';

/** R4 Subscriptions Backport: where a server lists the topics it offers (CapabilityStatement extension). */
export const BACKPORT_TOPIC_CANONICAL_URL = 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/capabilitystatement-subscriptiontopic-canonical';
/** R4 Backport profile of a Subscription. */
export const BACKPORT_SUBSCRIPTION_PROFILE = 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-subscription';
/** The one topic the sandbox offers: any create or update of a clinical resource. */
export const SANDBOX_TOPIC = 'https://chartgraph.dev/fhir/SubscriptionTopic/clinical-changes';

interface ActiveSubscription {
  id: string;
  endpoint: string;
  headers: Record<string, string>;
  eventCount: number;
  resource: FhirResource;
}

/**
 * The rest-hook half of the R4 Subscriptions Backport for one simulated EHR: accepts
 * Subscriptions on {@link SANDBOX_TOPIC} with `channel.type = rest-hook`, and after every
 * write POSTs an `id-only` notification Bundle (a SubscriptionStatus Parameters first, then
 * the focus's fullUrl) to each subscriber. Deliveries are fire-and-forget, as a real server's
 * are: a lost notification is what the subscriber's safety-net poll is for.
 */
export class RestHookNotifier {
  private readonly subs = new Map<string, ActiveSubscription>();
  /** Notifications sent (tests count them). */
  sent = 0;

  /** Validates and activates a Subscription; returns the stored resource or an error text. */
  subscribe(body: Record<string, any>): { resource: FhirResource } | { error: string } {
    if (body.criteria !== SANDBOX_TOPIC) return { error: `Unknown topic; this server offers ${SANDBOX_TOPIC}` };
    if (body.channel?.type !== 'rest-hook') return { error: 'Only rest-hook channels are supported' };
    let endpoint: URL;
    try {
      endpoint = new URL(String(body.channel.endpoint));
    } catch {
      return { error: 'channel.endpoint must be a URL' };
    }
    const headers: Record<string, string> = {};
    for (const h of Array.isArray(body.channel.header) ? body.channel.header : []) {
      const m = /^([A-Za-z0-9-]+):\s*(.*)$/.exec(String(h));
      if (m) headers[m[1].toLowerCase()] = m[2];
    }
    const id = randomUUID();
    const resource = { ...body, resourceType: 'Subscription', id, status: 'active', meta: { versionId: '1', lastUpdated: new Date().toISOString() } } as FhirResource;
    this.subs.set(id, { id, endpoint: endpoint.href, headers, eventCount: 0, resource });
    void this.post(this.subs.get(id)!, 'handshake', undefined, '');
    return { resource };
  }

  /** The active Subscription with this id (GET Subscription/[id]), undefined when unknown. */
  read(id: string): FhirResource | undefined {
    return this.subs.get(id)?.resource;
  }

  /** Active subscriptions (tests count them). */
  get active(): number {
    return this.subs.size;
  }

  /** Ends a subscription (DELETE Subscription/[id]); false when unknown. */
  unsubscribe(id: string): boolean {
    return this.subs.delete(id);
  }

  /** Tells every subscriber that `resource` was written. */
  notify(resource: FhirResource, baseUrl: string): void {
    for (const s of this.subs.values()) {
      s.eventCount++;
      void this.post(s, 'event-notification', resource, baseUrl);
    }
  }

  private async post(s: ActiveSubscription, type: 'handshake' | 'event-notification', focus: FhirResource | undefined, baseUrl: string): Promise<void> {
    const status = {
      resourceType: 'Parameters',
      parameter: [
        { name: 'subscription', valueReference: { reference: `Subscription/${s.id}` } },
        { name: 'topic', valueCanonical: SANDBOX_TOPIC },
        { name: 'status', valueCode: 'active' },
        { name: 'type', valueCode: type },
        { name: 'events-since-subscription-start', valueString: String(s.eventCount) },
        ...(focus
          ? [
              {
                name: 'notification-event',
                part: [
                  { name: 'event-number', valueString: String(s.eventCount) },
                  { name: 'focus', valueReference: { reference: `${focus.resourceType}/${focus.id}` } },
                ],
              },
            ]
          : []),
      ],
    };
    const bundle = {
      resourceType: 'Bundle',
      id: randomUUID(),
      type: 'history',
      timestamp: new Date().toISOString(),
      entry: [
        { fullUrl: `urn:uuid:${randomUUID()}`, resource: status, request: { method: 'GET', url: `Subscription/${s.id}/$status` }, response: { status: '200' } },
        ...(focus ? [{ fullUrl: `${baseUrl}/${focus.resourceType}/${focus.id}`, request: { method: 'PUT', url: `${focus.resourceType}/${focus.id}` }, response: { status: '200' } }] : []),
      ],
    };
    try {
      this.sent++;
      await fetch(s.endpoint, { method: 'POST', headers: { 'content-type': 'application/fhir+json', ...s.headers }, body: JSON.stringify(bundle), signal: AbortSignal.timeout(5_000) });
    } catch {
      // Unreachable subscriber: dropped, as above.
    }
  }
}
