import { useEffect, useState } from 'preact/hooks';

/** Moves to another page of the single-page app without a reload. */
export function navigate(path: string, state: unknown = null): void {
  if (path === location.pathname) return;
  history.pushState(state, '', path);
  window.dispatchEvent(new PopStateEvent('popstate', { state }));
  window.scrollTo(0, 0);
  // As after a page load, keyboard and screen-reader users start at the top of the new content.
  requestAnimationFrame(() => document.getElementById('main')?.focus({ preventScroll: true }));
}

export function usePath(): string {
  const [path, setPath] = useState(location.pathname);
  useEffect(() => {
    const onChange = () => setPath(location.pathname);
    window.addEventListener('popstate', onChange);
    return () => window.removeEventListener('popstate', onChange);
  }, []);
  return path;
}

/** Matches `/sales/:saleId`-style patterns; parameters are URI-decoded. */
export function matchPath(pattern: string, path: string): Record<string, string> | undefined {
  const patternParts = pattern.split('/').filter(Boolean);
  const pathParts = path.split('/').filter(Boolean);
  if (patternParts.length !== pathParts.length) return undefined;
  const params: Record<string, string> = {};
  for (let index = 0; index < patternParts.length; index += 1) {
    const expected = patternParts[index];
    if (expected.startsWith(':')) {
      try {
        params[expected.slice(1)] = decodeURIComponent(pathParts[index]);
      } catch {
        return undefined;
      }
    } else if (expected !== pathParts[index]) {
      return undefined;
    }
  }
  return params;
}

/** A same-app link: ordinary clicks navigate in place; modified clicks (new tab) keep the browser's way. */
export function onLinkClick(event: MouseEvent): void {
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const anchor = event.currentTarget as HTMLAnchorElement;
  if (anchor.origin !== location.origin) return;
  event.preventDefault();
  navigate(anchor.pathname);
}
