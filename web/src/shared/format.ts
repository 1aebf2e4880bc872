const minorDigitsCache = new Map<string, number>();

function minorDigits(currency: string): number {
  let digits = minorDigitsCache.get(currency);
  if (digits === undefined) {
    try {
      digits = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
    } catch {
      digits = 2;
    }
    minorDigitsCache.set(currency, digits);
  }
  return digits;
}

/** Money is an integer of minor units (`priceCents`); the currency decides how many digits they take. */
export function formatMoney(minorUnits: number, currency: string): string {
  const digits = minorDigits(currency);
  const amount = minorUnits / 10 ** digits;
  try {
    return new Intl.NumberFormat(undefined, { style: 'currency', currency, minimumFractionDigits: digits, maximumFractionDigits: digits }).format(amount);
  } catch {
    return `${amount.toFixed(digits)} ${currency}`;
  }
}

export function formatCount(value: number): string {
  return new Intl.NumberFormat().format(value);
}

/** `1d 02:03:04`, `2:03:04`, `3:04`, `0:04` — never negative. */
export function formatCountdown(milliseconds: number): string {
  const totalSeconds = Math.max(0, Math.ceil(milliseconds / 1000));
  const days = Math.floor(totalSeconds / 86400);
  const hours = Math.floor((totalSeconds % 86400) / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = totalSeconds % 60;
  const two = (value: number) => String(value).padStart(2, '0');
  if (days > 0) return `${days}d ${two(hours)}:${two(minutes)}:${two(seconds)}`;
  if (hours > 0) return `${hours}:${two(minutes)}:${two(seconds)}`;
  return `${minutes}:${two(seconds)}`;
}

/** Words for screen readers and summaries: `2 hours 3 minutes`, `45 seconds`. */
export function describeDuration(milliseconds: number): string {
  const totalSeconds = Math.max(0, Math.ceil(milliseconds / 1000));
  const parts: [number, string][] = [
    [Math.floor(totalSeconds / 86400), 'day'],
    [Math.floor((totalSeconds % 86400) / 3600), 'hour'],
    [Math.floor((totalSeconds % 3600) / 60), 'minute'],
    [totalSeconds % 60, 'second'],
  ];
  const words = parts.filter(([value]) => value > 0).map(([value, unit]) => `${value} ${unit}${value === 1 ? '' : 's'}`);
  return words.length === 0 ? 'now' : words.slice(0, 2).join(' ');
}

export function formatDateTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
}

/** `datetime-local` inputs speak local wall time without a zone; the API speaks UTC ISO strings. */
export function toDateTimeLocal(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  const two = (value: number) => String(value).padStart(2, '0');
  return `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())}T${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}`;
}

export function fromDateTimeLocal(value: string): string | undefined {
  if (value.trim() === '') return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

/**
 * A short order reference for people (receipts, a support call): the last eight characters of the ULID
 * inside the order id (`o_<ulid>.<saleId>`), which are random, upper case in two groups of four:
 * `o_01jd8x3v7q9m2k4p6r8t0w2y4z.s_…` → `8T0W-2Y4Z`. Forty random bits keep two orders of one sale from
 * sharing a reference in all but a one-in-many-thousands case; the full id stays the exact key.
 */
export function orderReference(orderId: string): string {
  const match = /^o_([0-9a-z]{26})\./i.exec(orderId);
  const tail = (match ? match[1] : orderId.replace(/[^0-9a-z]/gi, '')).slice(-8).toUpperCase();
  return tail.length > 4 ? `${tail.slice(0, 4)}-${tail.slice(4)}` : tail;
}
