import pg from 'pg';
import type { Logger } from 'pino';
import type { Listen } from './event-tail.js';

/**
 * LISTEN on a PostgreSQL server through a connection of its own (a pooled one cannot keep a
 * LISTEN). When the connection drops it reconnects with a growing delay and calls the
 * handler once, since notifications sent meanwhile were lost and the reader must look.
 */
export function pgListen(url: string, logger: Logger): Listen {
  return async (channel, onPayload) => {
    let client: pg.Client | undefined;
    let stopped = false;
    let delay = 500;
    let timer: NodeJS.Timeout | undefined;
    const connect = async (): Promise<void> => {
      const c = new pg.Client({ connectionString: url });
      c.on('notification', (n) => {
        if (n.channel === channel) onPayload(n.payload ?? '');
      });
      c.on('error', (err) => {
        logger.warn({ err }, 'event notification connection lost; reconnecting');
        void c.end().catch(() => undefined);
        if (client === c) client = undefined;
        retry();
      });
      await c.connect();
      await c.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
      client = c;
      delay = 500;
    };
    const retry = () => {
      if (stopped || timer) return;
      timer = setTimeout(() => {
        timer = undefined;
        connect().then(
          () => onPayload(''),
          () => {
            delay = Math.min(delay * 2, 30_000);
            retry();
          },
        );
      }, delay);
      timer.unref?.();
    };
    await connect();
    return async () => {
      stopped = true;
      clearTimeout(timer);
      await client?.end().catch(() => undefined);
    };
  };
}
