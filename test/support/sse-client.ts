import { request, type ClientRequest, type IncomingMessage } from 'node:http';

export interface SseEvent {
  event: string;
  data: any;
}

/**
 * A Server-Sent Events reader over a plain HTTP connection: collects every event, and lets a test wait
 * for the first one that matches (bounded by a timeout, so a missing event fails the test).
 */
export class SseClient {
  readonly events: SseEvent[] = [];
  comments = 0;
  private buffer = '';
  private waiters: { match: (event: SseEvent) => boolean; resolve: (event: SseEvent) => void }[] = [];
  private request?: ClientRequest;
  response?: IncomingMessage;

  static open(baseUrl: string, path: string): Promise<SseClient> {
    const client = new SseClient();
    return new Promise((resolve, reject) => {
      client.request = request(new URL(path, baseUrl), { headers: { accept: 'text/event-stream' } }, (response) => {
        client.response = response;
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => client.onData(chunk));
        response.on('error', () => undefined);
        resolve(client);
      });
      client.request.on('error', reject);
      client.request.end();
    });
  }

  /** The body of a response that was not a stream (an error). */
  async text(): Promise<string> {
    const response = this.response as IncomingMessage;
    if (response.readableEnded) return this.buffer;
    await new Promise((resolve) => response.on('end', resolve));
    return this.buffer;
  }

  next(match: (event: SseEvent) => boolean, timeoutMs = 5000): Promise<SseEvent> {
    const seen = this.events.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching event within ${timeoutMs} ms; got ${JSON.stringify(this.events.map((event) => event.event))}`)), timeoutMs);
      this.waiters.push({
        match,
        resolve: (event) => {
          clearTimeout(timer);
          resolve(event);
        },
      });
    });
  }

  close(): void {
    this.request?.destroy();
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    if (this.response?.headers['content-type']?.startsWith('text/event-stream') !== true) return;
    let end: number;
    while ((end = this.buffer.indexOf('\n\n')) >= 0) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      this.onBlock(block);
    }
  }

  private onBlock(block: string): void {
    let event = 'message';
    let data = '';
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) this.comments += 1;
      else if (line.startsWith('event: ')) event = line.slice(7);
      else if (line.startsWith('data: ')) data += line.slice(6);
    }
    if (data === '') return;
    const parsed = { event, data: JSON.parse(data) };
    this.events.push(parsed);
    this.waiters = this.waiters.filter((waiter) => {
      if (!waiter.match(parsed)) return true;
      waiter.resolve(parsed);
      return false;
    });
  }
}
