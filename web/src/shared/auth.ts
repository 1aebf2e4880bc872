import { apiRequest } from './api';

export interface TokenClaims {
  userId: string;
  roles: string[];
  /** Epoch ms. */
  expiresAt: number;
}

/**
 * Reads the claims of a JWT for display and expiry only. The signature is the server's business; a
 * forged token here just gets 401 from the API.
 */
export function claimsOf(token: string): TokenClaims | undefined {
  const payload = token.split('.')[1];
  if (!payload) return undefined;
  try {
    const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(payload.length / 4) * 4, '='));
    const claims = JSON.parse(json) as { sub?: unknown; roles?: unknown; exp?: unknown };
    if (typeof claims.sub !== 'string' || typeof claims.exp !== 'number') return undefined;
    const roles = Array.isArray(claims.roles) ? claims.roles.filter((role): role is string => typeof role === 'string') : [];
    return { userId: claims.sub, roles, expiresAt: claims.exp * 1000 };
  } catch {
    return undefined;
  }
}

type Listener = (token: string | null) => void;

/**
 * The signed-in token, kept in sessionStorage: it lives as long as the tab, is not shared with other
 * tabs or sent anywhere by the browser on its own, and never appears in a URL.
 */
export class TokenStore {
  private readonly listeners = new Set<Listener>();

  constructor(private readonly storageKey: string) {}

  get(): string | null {
    const token = sessionStorage.getItem(this.storageKey);
    if (token === null) return null;
    const claims = claimsOf(token);
    if (!claims || claims.expiresAt <= Date.now()) {
      sessionStorage.removeItem(this.storageKey);
      return null;
    }
    return token;
  }

  claims(): TokenClaims | undefined {
    const token = this.get();
    return token === null ? undefined : claimsOf(token);
  }

  set(token: string): void {
    sessionStorage.setItem(this.storageKey, token);
    this.listeners.forEach((listener) => listener(token));
  }

  clear(): void {
    sessionStorage.removeItem(this.storageKey);
    this.listeners.forEach((listener) => listener(null));
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** The server says (through a `<meta>` tag it fills in) whether `POST /api/dev/tokens` is enabled. */
export function devSignInAvailable(): boolean {
  const content = document.querySelector('meta[name="sellout-dev-tokens"]')?.getAttribute('content');
  // Unfilled (the Vite dev server serves the raw page): assume a development service behind the proxy.
  return content !== 'false';
}

export async function requestDevToken(userId: string, roles: string[] = []): Promise<string> {
  const response = await apiRequest<{ token: string }>('POST', '/api/dev/tokens', { body: roles.length > 0 ? { userId, roles } : { userId } });
  return response.data.token;
}

declare global {
  interface Window {
    /** Set by a host shop page that serves the storefront itself, before the storefront script runs. */
    SELLOUT_TOKEN?: string;
  }
}

/** What a host shop may post to an embedded storefront (see web/README.md). */
export type HostMessage = { type: 'sellout:token'; token: string } | { type: 'sellout:sign-out' };

/**
 * In production the host shop signs its customers in and hands Sellout their token, either as
 * `window.SELLOUT_TOKEN` on a page it serves or by `postMessage` from the page that embeds the storefront
 * in an iframe. Only the embedding window is listened to.
 */
export function acceptHostToken(store: TokenStore): () => void {
  if (typeof window.SELLOUT_TOKEN === 'string' && window.SELLOUT_TOKEN.length > 0) {
    store.set(window.SELLOUT_TOKEN);
    delete window.SELLOUT_TOKEN;
  }
  const onMessage = (event: MessageEvent): void => {
    if (window.parent === window || event.source !== window.parent) return;
    const message = event.data as Partial<HostMessage> | null;
    if (message?.type === 'sellout:token' && typeof (message as { token?: unknown }).token === 'string') store.set((message as { token: string }).token);
    if (message?.type === 'sellout:sign-out') store.clear();
  };
  window.addEventListener('message', onMessage);
  if (window.parent !== window) window.parent.postMessage({ type: 'sellout:ready' }, '*');
  return () => window.removeEventListener('message', onMessage);
}
