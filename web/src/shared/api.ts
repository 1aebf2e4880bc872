import type { ErrorDetail } from '@sellout/contract';

/** Not a contract code: the request never got an answer (offline, reset, timed out). */
export const NETWORK_ERROR = 'NETWORK_ERROR';

/** An error answer of the API (`{ statusCode, code, message, details }`) or a failed connection. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: ErrorDetail[] = [],
    /** From `Retry-After`, in seconds, when the server sent one. */
    readonly retryAfterSeconds?: number,
    readonly requestId?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** Worth sending again unchanged: nothing was decided (no answer, or the server said it changed nothing). */
  get transient(): boolean {
    return this.code === NETWORK_ERROR || this.status === 503;
  }
}

export interface RequestOptions {
  token?: string | null;
  /** Sent as JSON. */
  body?: unknown;
  /** Sent as is with `contentType` (CSV imports). */
  rawBody?: string;
  contentType?: string;
  headers?: Record<string, string>;
  timeoutMs?: number;
}

export interface ApiResponse<T> {
  status: number;
  data: T;
  headers: Headers;
  /** Local time (epoch ms) when the answer arrived, for syncing with the server's clock. */
  receivedAt: number;
}

function retryAfterOf(headers: Headers): number | undefined {
  const value = headers.get('retry-after');
  if (value === null) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

type Listener = (error: ApiError) => void;
const unauthenticatedListeners = new Set<Listener>();

/** Called whenever the API answers 401, so the app can forget a dead token and ask to sign in again. */
export function onUnauthenticated(listener: Listener): () => void {
  unauthenticatedListeners.add(listener);
  return () => unauthenticatedListeners.delete(listener);
}

export async function apiRequest<T = unknown>(method: string, path: string, options: RequestOptions = {}): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { accept: 'application/json', ...(options.headers ?? {}) };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined;
  if (options.rawBody !== undefined) {
    body = options.rawBody;
    headers['content-type'] = options.contentType ?? 'text/plain';
  } else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] = 'application/json';
  }
  let response: Response;
  try {
    response = await fetch(path, { method, headers, body, credentials: 'same-origin', signal: AbortSignal.timeout(options.timeoutMs ?? 15000) });
  } catch (error) {
    const reason = error instanceof DOMException && error.name === 'TimeoutError' ? 'The request timed out' : 'The connection to the shop failed';
    throw new ApiError(0, NETWORK_ERROR, reason);
  }
  const receivedAt = Date.now();
  const text = await response.text().catch(() => '');
  const isJson = (response.headers.get('content-type') ?? '').includes('json');
  let data: unknown = text;
  if (isJson && text.length > 0) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }
  if (!response.ok) {
    const errorBody = (typeof data === 'object' && data !== null ? data : {}) as { code?: unknown; message?: unknown; details?: unknown; requestId?: unknown };
    const error = new ApiError(
      response.status,
      typeof errorBody.code === 'string' ? errorBody.code : `HTTP_${response.status}`,
      typeof errorBody.message === 'string' ? errorBody.message : `The server answered ${response.status}`,
      Array.isArray(errorBody.details) ? (errorBody.details as ErrorDetail[]) : [],
      retryAfterOf(response.headers),
      typeof errorBody.requestId === 'string' ? errorBody.requestId : (response.headers.get('x-request-id') ?? undefined),
    );
    if (response.status === 401) unauthenticatedListeners.forEach((listener) => listener(error));
    throw error;
  }
  return { status: response.status, data: data as T, headers: response.headers, receivedAt };
}
