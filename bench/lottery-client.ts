import { request as httpRequest } from 'node:http';
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';

/**
 * The HTTP client of `npm run bench:lottery`, on a thread of its own so that receiving and parsing the
 * draw's answer (tens of megabytes) never runs on the service's event loop, whose delays it measures:
 * asks for the draw and, meanwhile, `GET /health` every `probeMs`; then asks for the result.
 */

export interface ClientRequest {
  baseUrl: string;
  drawPath: string;
  resultPath: string;
  headers: Record<string, string>;
  probeMs: number;
}

export interface TimedResponse {
  status: number;
  bytes: number;
  firstByteMs: number;
  totalMs: number;
  body: ArrayBuffer;
}

export interface ClientReport {
  drawn: TimedResponse;
  result: TimedResponse;
  /** Milliseconds each `GET /health` took while the draw was in progress. */
  probes: number[];
}

/** One request over a plain node:http connection (lighter per chunk than fetch), timed to its first and last byte. */
function timed(url: string, method: 'GET' | 'POST', headers: Record<string, string>): Promise<TimedResponse> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { method, headers, agent: false }, (response) => {
      const firstByteMs = performance.now() - start;
      const chunks: Buffer[] = [];
      let bytes = 0;
      response.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        bytes += chunk.length;
      });
      response.on('error', reject);
      response.on('end', () => {
        const totalMs = performance.now() - start;
        const body = Buffer.concat(chunks);
        resolve({ status: response.statusCode ?? 0, bytes, firstByteMs, totalMs, body: body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength) });
      });
    });
    request.on('error', reject);
    request.end();
  });
}

async function run(request: ClientRequest): Promise<ClientReport> {
  const probes: number[] = [];
  let drawing = true;
  const probing = (async () => {
    while (drawing) {
      const answer = await timed(`${request.baseUrl}/health`, 'GET', {});
      if (drawing) probes.push(answer.totalMs);
      await new Promise((resolve) => setTimeout(resolve, request.probeMs));
    }
  })();
  const drawn = await timed(`${request.baseUrl}${request.drawPath}`, 'POST', request.headers);
  drawing = false;
  await probing;
  const result = await timed(`${request.baseUrl}${request.resultPath}`, 'GET', {});
  return { drawn, result, probes };
}

if (parentPort) {
  const port = parentPort;
  run(workerData as ClientRequest).then(
    (report) => port.postMessage({ report }, [report.drawn.body, report.result.body]),
    (error: unknown) => port.postMessage({ error: error instanceof Error ? error.message : String(error) }),
  );
}
