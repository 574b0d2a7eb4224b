import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { FaultInjector, type FaultRule } from './faults.js';
import { RequestLog } from './request-log.js';

/**
 * What every simulated upstream shares: an HTTP listener on a fixed port that faults can
 * take down (`down: 'refuse'` closes it; clearing the fault listens again on the same
 * port), a request log, and a close that ends hung requests and keep-alive connections.
 */
export abstract class FaultableServer {
  readonly requests = new RequestLog();
  protected readonly faults = new FaultInjector();
  protected readonly host: string;
  protected port = 0;
  private server: Server;
  private listening = false;
  private closed = false;
  private readonly sockets = new Set<Socket>();

  protected constructor(host: string | undefined) {
    this.host = host ?? '127.0.0.1';
    this.server = this.createHttpServer();
  }

  /** Answers one request. */
  protected abstract handle(req: IncomingMessage, res: ServerResponse): Promise<void>;

  /** `http://host:port` with IPv6 hosts bracketed. */
  protected get origin(): string {
    return `http://${this.host.includes(':') ? `[${this.host}]` : this.host}:${this.port}`;
  }

  /**
   * Replaces the active faults. Resolves once applied (for `down: 'refuse'`, once the
   * listener is closed).
   */
  async setFaults(rules: FaultRule | FaultRule[]): Promise<void> {
    this.faults.set(rules);
    await this.syncListener();
  }

  /** Removes every fault (and listens again after `down: 'refuse'`). */
  async clearFaults(): Promise<void> {
    this.faults.clear();
    await this.syncListener();
  }

  /** Stops the server, ending hung requests and keep-alive connections. */
  async close(): Promise<void> {
    this.closed = true;
    await this.stopListening();
  }

  protected async listen(port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, this.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.port = (this.server.address() as AddressInfo).port;
    this.listening = true;
  }

  private createHttpServer(): Server {
    const server = createServer((req, res) => void this.handle(req, res));
    server.keepAliveTimeout = 5_000;
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    return server;
  }

  private async stopListening(): Promise<void> {
    if (!this.listening) return;
    this.listening = false;
    const server = this.server;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const s of this.sockets) s.destroy();
    });
    // A closed node:http server cannot listen again; a fresh one takes the same port.
    this.server = this.createHttpServer();
  }

  private async syncListener(): Promise<void> {
    if (this.closed) return;
    if (this.faults.refusing()) await this.stopListening();
    else if (!this.listening) await this.listen(this.port);
  }
}
