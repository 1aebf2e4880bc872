import { createConnection, createServer, Server, Socket } from 'node:net';
import { freePort } from '../../support/test-services';

/**
 * A TCP proxy between the service and its database, so a test can make the database unreachable
 * without touching the database server: `cut` resets every connection and refuses new ones (a crashed
 * host or a dropped route), `stall` keeps connections open but carries no bytes (a partition, where
 * packets vanish and only timeouts tell).
 */
export class TcpProxy {
  private server?: Server;
  private readonly pairs = new Set<[Socket, Socket]>();
  private mode: 'open' | 'cut' | 'stall' = 'open';
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  async start(): Promise<void> {
    this.port = await freePort();
    this.server = createServer((client) => this.accept(client));
    await new Promise<void>((resolve) => (this.server as Server).listen(this.port, '127.0.0.1', resolve));
  }

  private accept(client: Socket): void {
    if (this.mode === 'cut') {
      client.resetAndDestroy();
      return;
    }
    const upstream = createConnection({ host: this.targetHost, port: this.targetPort });
    const pair: [Socket, Socket] = [client, upstream];
    this.pairs.add(pair);
    const close = () => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
    client.pipe(upstream);
    upstream.pipe(client);
    if (this.mode === 'stall') this.hold(pair);
  }

  private hold([client, upstream]: [Socket, Socket]): void {
    client.unpipe(upstream);
    upstream.unpipe(client);
    client.pause();
    upstream.pause();
  }

  /** Resets every open connection and refuses new ones for `ms`. */
  async cut(ms: number): Promise<void> {
    this.mode = 'cut';
    for (const [client, upstream] of [...this.pairs]) {
      client.resetAndDestroy();
      upstream.destroy();
    }
    await new Promise((resolve) => setTimeout(resolve, ms));
    this.mode = 'open';
  }

  /** Carries no bytes either way for `ms`, then lets everything through again. */
  async stall(ms: number): Promise<void> {
    this.mode = 'stall';
    for (const pair of this.pairs) this.hold(pair);
    await new Promise((resolve) => setTimeout(resolve, ms));
    this.mode = 'open';
    for (const [client, upstream] of this.pairs) {
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
      upstream.resume();
    }
  }

  async close(): Promise<void> {
    for (const [client, upstream] of this.pairs) {
      client.destroy();
      upstream.destroy();
    }
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
