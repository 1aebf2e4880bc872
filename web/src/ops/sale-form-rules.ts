import { ADMISSION_LIMITS, CURRENCY_PATTERN, SALE_LIMITS, type ErrorDetail, type Sale } from '@sellout/contract';
import { fromDateTimeLocal, toDateTimeLocal } from '../shared/format';

/**
 * The create/edit form of a sale and its checks, which mirror docs/api.md ("POST /api/admin/sales") so that
 * most mistakes are caught before a request; the server's own answer still wins and is shown per field.
 * The bounds are the server's own (src/contract/sale-limits.ts), so the two cannot drift apart.
 *
 * A sale's settings as its inputs hold them: text, a checkbox for `reservationRequired` and a choice for
 * `admission`. An empty `queueOpensAt` or `lotteryClosesAt` follows the sale's own times (the server's
 * defaults: the reservation close, the start).
 */
export type SaleFormValues = Record<
  Exclude<keyof Sale, 'reservationRequired' | 'admission' | 'id' | 'paused' | 'phase' | 'remaining' | 'fcodeRemaining' | 'reservations' | 'serverTime' | 'lottery'>,
  string
> &
  Pick<Sale, 'reservationRequired' | 'admission'>;

export type SaleField = keyof SaleFormValues;
export type FieldErrors = Partial<Record<SaleField, string>>;

/** Fields PATCH may change (docs/api.md: times, limits, name, description, price). */
export const EDITABLE_FIELDS: readonly SaleField[] = [
  'name',
  'description',
  'priceCents',
  'perUserLimit',
  'reservationOpensAt',
  'reservationClosesAt',
  'fcodeOpensAt',
  'startsAt',
  'endsAt',
  'paymentWindowSeconds',
  'admission',
  'admissionRatePerSecond',
  'admissionTtlSeconds',
  'purchaseWindowSeconds',
  'queueOpensAt',
  'lotteryClosesAt',
];

const TIME_FIELDS = ['reservationOpensAt', 'reservationClosesAt', 'fcodeOpensAt', 'startsAt', 'endsAt', 'queueOpensAt', 'lotteryClosesAt'] as const;
const DAY_MS = 24 * 3600 * 1000;

export function emptySaleForm(): SaleFormValues {
  return {
    sku: '',
    name: '',
    description: '',
    priceCents: '',
    currency: 'CNY',
    stock: '',
    fcodeStock: '0',
    perUserLimit: '1',
    reservationRequired: true,
    reservationOpensAt: '',
    reservationClosesAt: '',
    fcodeOpensAt: '',
    startsAt: '',
    endsAt: '',
    paymentWindowSeconds: '900',
    admission: ADMISSION_LIMITS.defaultMode,
    admissionRatePerSecond: String(ADMISSION_LIMITS.defaultRatePerSecond),
    admissionTtlSeconds: String(ADMISSION_LIMITS.defaultTtlSeconds),
    purchaseWindowSeconds: String(ADMISSION_LIMITS.defaultPurchaseWindowSeconds),
    queueOpensAt: '',
    lotteryClosesAt: '',
  };
}

export function saleFormOf(sale: Sale): SaleFormValues {
  return {
    sku: sale.sku,
    name: sale.name,
    description: sale.description ?? '',
    priceCents: String(sale.priceCents),
    currency: sale.currency,
    stock: String(sale.stock),
    fcodeStock: String(sale.fcodeStock),
    perUserLimit: String(sale.perUserLimit),
    reservationRequired: sale.reservationRequired,
    reservationOpensAt: toDateTimeLocal(sale.reservationOpensAt),
    reservationClosesAt: toDateTimeLocal(sale.reservationClosesAt),
    fcodeOpensAt: toDateTimeLocal(sale.fcodeOpensAt),
    startsAt: toDateTimeLocal(sale.startsAt),
    endsAt: toDateTimeLocal(sale.endsAt),
    paymentWindowSeconds: String(sale.paymentWindowSeconds),
    admission: sale.admission,
    admissionRatePerSecond: String(sale.admissionRatePerSecond),
    admissionTtlSeconds: String(sale.admissionTtlSeconds),
    purchaseWindowSeconds: String(sale.purchaseWindowSeconds),
    queueOpensAt: toDateTimeLocal(sale.queueOpensAt),
    lotteryClosesAt: toDateTimeLocal(sale.lotteryClosesAt),
  };
}

export interface SaleFormCheck {
  errors: FieldErrors;
  /** The request body (only fields given, or for an edit only fields changed); undefined when errors. */
  body?: Record<string, unknown>;
}

function integer(value: string): number | undefined {
  const trimmed = value.trim();
  if (!/^-?\d+$/.test(trimmed)) return undefined;
  const parsed = Number(trimmed);
  return Number.isSafeInteger(parsed) ? parsed : undefined;
}

/**
 * Checks the form. `mode: 'edit'` compares with `original` and sends only what changed. `now` is the
 * server's time (for the default of `reservationOpensAt`).
 */
export function checkSaleForm(values: SaleFormValues, mode: 'create' | 'edit', now: number, original?: SaleFormValues): SaleFormCheck {
  const errors: FieldErrors = {};
  const body: Record<string, unknown> = {};
  const changed = (field: SaleField) => mode === 'create' || original === undefined || values[field] !== original[field];
  const editable = (field: SaleField) => mode === 'create' || EDITABLE_FIELDS.includes(field);

  const text = (field: 'sku' | 'name' | 'description' | 'currency', required: boolean, max: number) => {
    if (!editable(field)) return;
    const value = values[field].trim();
    if (value === '') {
      if (required) errors[field] = 'Required.';
      else if (mode === 'edit' && changed(field) && field === 'description') body[field] = '';
      return;
    }
    if (value.length > max) errors[field] = `At most ${max.toLocaleString('en')} characters.`;
    else if (changed(field)) body[field] = value;
  };
  text('sku', true, SALE_LIMITS.textMax);
  text('name', true, SALE_LIMITS.textMax);
  text('description', false, SALE_LIMITS.descriptionMax);
  if (mode === 'create') {
    const currency = values.currency.trim().toUpperCase();
    if (currency !== '' && !CURRENCY_PATTERN.test(currency)) errors.currency = 'A three-letter currency code, like CNY or EUR.';
    else if (currency !== '') body.currency = currency;
  }

  type WholeField = 'priceCents' | 'stock' | 'fcodeStock' | 'perUserLimit' | 'paymentWindowSeconds' | 'admissionRatePerSecond' | 'admissionTtlSeconds' | 'purchaseWindowSeconds';
  const whole = (field: WholeField, required: boolean, min: number, max: number) => {
    if (!editable(field)) return undefined;
    if (values[field].trim() === '') {
      if (required) errors[field] = 'Required.';
      return undefined;
    }
    const parsed = integer(values[field]);
    if (parsed === undefined) {
      errors[field] = 'A whole number.';
      return undefined;
    }
    if (parsed < min || parsed > max) {
      errors[field] = `From ${min.toLocaleString('en')} to ${max.toLocaleString('en')}.`;
      return undefined;
    }
    if (changed(field)) body[field] = parsed;
    return parsed;
  };
  whole('priceCents', true, 0, SALE_LIMITS.priceCentsMax);
  const stock = whole('stock', true, 0, SALE_LIMITS.stockMax);
  const fcodeStock = whole('fcodeStock', false, 0, SALE_LIMITS.stockMax);
  if (mode === 'create' && stock !== undefined && (stock + (fcodeStock ?? 0)) < 1) errors.stock = 'Stock and F-code stock together must be at least 1.';
  whole('perUserLimit', false, SALE_LIMITS.perUserLimitMin, SALE_LIMITS.perUserLimitMax);
  whole('paymentWindowSeconds', false, SALE_LIMITS.paymentWindowSecondsMin, SALE_LIMITS.paymentWindowSecondsMax);
  if (mode === 'create') body.reservationRequired = values.reservationRequired;
  if (changed('admission')) body.admission = values.admission;
  whole('admissionRatePerSecond', false, ADMISSION_LIMITS.ratePerSecondMin, ADMISSION_LIMITS.ratePerSecondMax);
  whole('admissionTtlSeconds', false, ADMISSION_LIMITS.ttlSecondsMin, ADMISSION_LIMITS.ttlSecondsMax);
  whole('purchaseWindowSeconds', false, ADMISSION_LIMITS.purchaseWindowSecondsMin, ADMISSION_LIMITS.purchaseWindowSecondsMax);

  const times: Partial<Record<(typeof TIME_FIELDS)[number], number>> = {};
  for (const field of TIME_FIELDS) {
    if (values[field].trim() === '') continue;
    const iso = fromDateTimeLocal(values[field]);
    if (iso === undefined) {
      errors[field] = 'Not a valid date and time.';
      continue;
    }
    times[field] = Date.parse(iso);
    if (changed(field)) body[field] = iso;
  }
  if (values.startsAt.trim() === '') errors.startsAt = 'Required.';

  // The defaults of the HTTP contract (README), so the order of the windows is checked as the server will see it.
  const startsAt = times.startsAt;
  if (startsAt !== undefined) {
    const reservationOpensAt = times.reservationOpensAt ?? now;
    const reservationClosesAt = times.reservationClosesAt ?? startsAt;
    const fcodeOpensAt = times.fcodeOpensAt ?? startsAt;
    const endsAt = times.endsAt ?? startsAt + DAY_MS;
    if (reservationOpensAt > reservationClosesAt && !errors.reservationOpensAt) errors.reservationOpensAt = 'Reservations must open before they close.';
    if (reservationClosesAt > startsAt && !errors.reservationClosesAt) errors.reservationClosesAt = 'Reservations must close at or before the start.';
    if (fcodeOpensAt > startsAt && !errors.fcodeOpensAt) errors.fcodeOpensAt = 'The F-code window must open at or before the start.';
    if (endsAt <= startsAt && !errors.endsAt) errors.endsAt = 'The sale must end after it starts.';
    // Checked only when sent: an edit form shows the times the sale follows now (the reservation close,
    // the start), which move with those fields on the server but not in the form.
    if (times.queueOpensAt !== undefined && changed('queueOpensAt') && times.queueOpensAt > startsAt && !errors.queueOpensAt) errors.queueOpensAt = 'The waiting room must open at or before the start.';
    if (times.lotteryClosesAt !== undefined && changed('lotteryClosesAt') && times.lotteryClosesAt > startsAt && !errors.lotteryClosesAt) errors.lotteryClosesAt = 'Lottery entries must close at or before the start.';
  }

  if (Object.keys(errors).length > 0) return { errors };
  return { errors, body };
}

/** Puts the server's `details` next to the fields they name; the rest are returned for a general list. */
export function fieldErrorsFromDetails(details: ErrorDetail[]): { fields: FieldErrors; other: ErrorDetail[] } {
  const known = new Set<string>(Object.keys(emptySaleForm()));
  const fields: FieldErrors = {};
  const other: ErrorDetail[] = [];
  for (const detail of details) {
    const field = detail.field.split('.')[0];
    if (known.has(field)) fields[field as SaleField] = fields[field as SaleField] ? `${fields[field as SaleField]} ${detail.message}` : detail.message;
    else other.push(detail);
  }
  return { fields, other };
}
