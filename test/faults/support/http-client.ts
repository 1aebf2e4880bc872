import { Agent, request as httpRequest } from 'node:http';

/**
 * A small keep-alive HTTP client for the fault suite. It never throws: a request that got no HTTP answer
 * (connection refused, reset, timed out) is an answer with status 0 and the network error's code, so the
 * caller can tell "nothing was sent" (ECONNREFUSED) from "sent, outcome unknown" (everything else).
 */
export interface HttpAnswer {
  /** HTTP status, or 0 when no HTTP answer arrived. */
  status: number;
  body: any;
  headers: Record<string, string | string[] | undefined>;
  /** The network error's code when status is 0. */
  networkError?: string;
  /** Milliseconds since the client was created, when the request was sent and when it ended. */
  sentAt: number;
  endedAt: number;
}

export interface HttpRequestOptions {
  token?: string;
  body?: unknown;
  headers?: Record<string, string>;
  timeoutMs?: number;
}

export class HttpClient {
  private readonly agent: Agent;
  private readonly origin: number = Date.now();
  private readonly active = new Set<HttpAnswer>();

  constructor(
    private readonly port: number,
    maxSockets: number,
  ) {
    this.agent = new Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
  }

  /** Milliseconds since this client was created (the scenario's clock). */
  now(): number {
    return Date.now() - this.origin;
  }

  /** The requests sent and not yet answered, at this moment. */
  inFlight(): HttpAnswer[] {
    return [...this.active];
  }

  request(method: string, path: string, options: HttpRequestOptions = {}): Promise<HttpAnswer> {
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (payload !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(Buffer.byteLength(payload));
    }
    const answer: HttpAnswer = { status: 0, body: undefined, headers: {}, sentAt: this.now(), endedAt: 0 };
    this.active.add(answer);
    return new Promise<HttpAnswer>((resolve) => {
      let settled = false;
      const finish = (update: Partial<HttpAnswer>) => {
        if (settled) return;
        settled = true;
        Object.assign(answer, update, { endedAt: this.now() });
        this.active.delete(answer);
        resolve(answer);
      };
      const outgoing = httpRequest({ host: '127.0.0.1', port: this.port, method, path, headers, agent: this.agent }, (incoming) => {
        const chunks: Buffer[] = [];
        incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
        incoming.on('error', (error: NodeJS.ErrnoException) => finish({ networkError: error.code ?? 'RESPONSE_ABORTED' }));
        incoming.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = text;
          try {
            body = text.length > 0 ? JSON.parse(text) : undefined;
          } catch {
            // not JSON: kept as text, and the contract check reports it
          }
          finish({ status: incoming.statusCode ?? 0, body, headers: incoming.headers });
        });
      });
      outgoing.setTimeout(options.timeoutMs ?? 10_000, () => outgoing.destroy(Object.assign(new Error('timed out'), { code: 'CLIENT_TIMEOUT' })));
      outgoing.on('error', (error: NodeJS.ErrnoException) => finish({ networkError: error.code ?? 'NETWORK_ERROR' }));
      outgoing.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
