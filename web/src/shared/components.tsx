import type { ComponentChildren } from 'preact';
import { useEffect, useId, useState } from 'preact/hooks';
import { claimsOf, devSignInAvailable, requestDevToken, TokenStore } from './auth';
import { explainError, ExplainContext } from './error-messages';
import { describeDuration, formatCountdown } from './format';
import { onLinkClick } from './router';
import { PHASE_LABELS } from './sale-timeline';
import type { SalePhase } from '@sellout/contract';

export function Link(props: { href: string; children: ComponentChildren; class?: string }) {
  return (
    <a href={props.href} class={props.class} onClick={onLinkClick}>
      {props.children}
    </a>
  );
}

/** A column heading of {@link TableHead}; `hidden` keeps its label for screen readers only. */
export interface ColumnHeading {
  label: string;
  class?: string;
  hidden?: boolean;
}

/** The heading row of a data table, one `<th scope="col">` per column. */
export function TableHead(props: { columns: ColumnHeading[] }) {
  return (
    <thead>
      <tr>
        {props.columns.map((column) => (
          <th key={column.label} scope="col" class={column.class}>
            {column.hidden ? <span class="visually-hidden">{column.label}</span> : column.label}
          </th>
        ))}
      </tr>
    </thead>
  );
}

export function PhaseBadge(props: { phase: SalePhase }) {
  return <span class={`badge badge-${props.phase}`}>{PHASE_LABELS[props.phase]}</span>;
}

/** A countdown that screen readers can read on demand without being interrupted every second. */
export function Countdown(props: { label: string; remainingMs: number; testId?: string }) {
  return (
    <p class="countdown" role="timer" aria-live="off" data-testid={props.testId} aria-label={`${props.label} ${describeDuration(props.remainingMs)}`}>
      <span class="countdown-label">{props.label}</span> <strong class="countdown-value">{formatCountdown(props.remainingMs)}</strong>
    </p>
  );
}

/** An error in plain words with what to do next; announced to screen readers when it appears. */
export function ErrorNotice(props: { error: unknown; context?: ExplainContext; extra?: ComponentChildren }) {
  if (props.error === undefined || props.error === null) return null;
  const explanation = explainError(props.error, props.context);
  return (
    <div class="notice notice-error" role="alert" data-testid="error">
      <p class="notice-title">{explanation.title}</p>
      <p>{explanation.advice}</p>
      {props.extra}
    </div>
  );
}

/** A page whose subject is still loading or could not be had: its heading, the error if any, and a way back. */
export function PlaceholderPage(props: { title: string; error: unknown; back: ComponentChildren }) {
  return (
    <section>
      <h1>{props.title}</h1>
      <ErrorNotice error={props.error} />
      <p>{props.back}</p>
    </section>
  );
}

export function Notice(props: { kind: 'info' | 'success' | 'warning'; title: string; children?: ComponentChildren; testId?: string }) {
  return (
    <div class={`notice notice-${props.kind}`} role="status" data-testid={props.testId}>
      <p class="notice-title">{props.title}</p>
      {props.children}
    </div>
  );
}

/** Follows a TokenStore so components re-render when someone signs in or out. */
export function useToken(store: TokenStore): string | null {
  const [token, setToken] = useState(() => store.get());
  useEffect(() => store.subscribe(setToken), [store]);
  return token;
}

export interface SignInProps {
  store: TokenStore;
  /** Roles asked for with a development token (`['ops']` in the ops console). */
  roles?: string[];
  defaultUserId?: string;
  /** What to say when there is no development sign-in (production). */
  productionHint: ComponentChildren;
  label?: string;
}

/** "Signed in as …" with sign-out, or the development "sign in as" box, or the production hint. */
export function SignIn(props: SignInProps) {
  const token = useToken(props.store);
  const [userId, setUserId] = useState(props.defaultUserId ?? '');
  const [pastedToken, setPastedToken] = useState('');
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const inputId = useId();
  const tokenInputId = useId();
  const claims = token === null ? undefined : claimsOf(token);

  if (claims) {
    return (
      <div class="signin signed-in" data-testid="signed-in">
        <span>
          Signed in as <strong>{claims.userId}</strong>
          {claims.roles.length > 0 ? ` (${claims.roles.join(', ')})` : ''}
        </span>
        <button type="button" class="button-quiet" onClick={() => props.store.clear()}>
          Sign out
        </button>
      </div>
    );
  }

  const submitDev = async (event: Event) => {
    event.preventDefault();
    const trimmed = userId.trim();
    if (!/^[\x21-\x7e]{1,64}$/.test(trimmed)) {
      setError(new Error('invalid user id'));
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      props.store.set(await requestDevToken(trimmed, props.roles ?? []));
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  const submitPasted = (event: Event) => {
    event.preventDefault();
    const claimsOfPasted = claimsOf(pastedToken.trim());
    if (!claimsOfPasted) {
      setError(new Error('not a token'));
      return;
    }
    props.store.set(pastedToken.trim());
    setPastedToken('');
  };

  const invalidUserId = error instanceof Error && error.message === 'invalid user id';
  const invalidToken = error instanceof Error && error.message === 'not a token';
  return (
    <div class="signin">
      {devSignInAvailable() ? (
        <form class="inline-form" onSubmit={submitDev} aria-label={props.label ?? 'Sign in (development)'}>
          <label for={inputId}>{props.label ?? 'Sign in as'}</label>
          <input
            id={inputId}
            name="userId"
            autocomplete="username"
            value={userId}
            onInput={(event) => setUserId((event.currentTarget as HTMLInputElement).value)}
            placeholder="user id, e.g. alice"
            aria-invalid={invalidUserId}
            aria-describedby={invalidUserId ? `${inputId}-error` : undefined}
            required
          />
          <button type="submit" disabled={busy}>
            {busy ? 'Signing in…' : 'Sign in'}
          </button>
          {invalidUserId ? (
            <p id={`${inputId}-error`} class="field-error">
              A user id is 1 to 64 letters, digits or symbols, without spaces.
            </p>
          ) : null}
        </form>
      ) : (
        <div class="signin-hint">{props.productionHint}</div>
      )}
      {props.roles?.includes('ops') ? (
        <form class="inline-form" onSubmit={submitPasted} aria-label="Sign in with a token">
          <label for={tokenInputId}>Or paste an ops token</label>
          <input
            id={tokenInputId}
            name="token"
            type="password"
            autocomplete="off"
            value={pastedToken}
            onInput={(event) => setPastedToken((event.currentTarget as HTMLInputElement).value)}
            aria-invalid={invalidToken}
          />
          <button type="submit">Use token</button>
          {invalidToken ? <p class="field-error">That does not look like a token (three dot-separated parts).</p> : null}
        </form>
      ) : null}
      {error !== undefined && !invalidUserId && !invalidToken ? <ErrorNotice error={error} /> : null}
    </div>
  );
}
