import type { ErrorDetail } from '../common/errors/sell.exception';
import { SellException } from '../common/errors/sell.exception';
import { ANY_CONTROL_CHARACTER } from '../common/bounded-json';
import { ID_PATTERN } from '../common/ids';
import { ID_RULE, IDEMPOTENCY_KEY_PATTERN, IDEMPOTENCY_KEY_RULE } from '../contract/ids';

export const MAX_QUANTITY = 100;
const FCODE_MAX_LENGTH = 64;

/** A purchase request whose shape has been checked; eligibility and stock are the script's business. */
export interface PurchaseInput {
  saleId: string;
  quantity: number;
  fcode?: string;
  idempotencyKey?: string;
}

/**
 * The purchase body as OpenAPI describes it (`components.schemas.PurchaseDto`). `parsePurchaseInput`
 * enforces exactly this; a spec checks the two agree.
 */
export const PURCHASE_BODY_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    quantity: {
      type: 'integer',
      default: 1,
      minimum: 1,
      maximum: MAX_QUANTITY,
      description: "Units to buy; the sale's perUserLimit applies on top (409 LIMIT_REACHED)",
    },
    fcode: {
      type: 'string',
      minLength: 1,
      maxLength: FCODE_MAX_LENGTH,
      example: 'ABCD-EFGH-JKMN-P',
      description: 'An F-code for this sale: buy from fcodeOpensAt on without a reservation, drawing first from the F-code pool. Case, spaces and dashes are ignored.',
    },
  },
} as const;

/**
 * Checks the path, body and `Idempotency-Key` of a purchase and lists every problem at once (400
 * VALIDATION_FAILED), in the words the other routes use. A missing or `null` body means `{}`; a `null`
 * field means the field is absent. Hand-written rather than a validation pipe: this runs for every
 * request of the stampede.
 */
export function parsePurchaseInput(saleId: string, body: unknown, idempotencyKey: string | string[] | undefined): PurchaseInput {
  const problems: ErrorDetail[] = [];
  if (!ID_PATTERN.test(saleId)) problems.push({ field: 'saleId', message: ID_RULE });
  if (idempotencyKey !== undefined && (typeof idempotencyKey !== 'string' || !IDEMPOTENCY_KEY_PATTERN.test(idempotencyKey))) {
    problems.push({ field: 'Idempotency-Key', message: IDEMPOTENCY_KEY_RULE });
  }

  let quantity: unknown;
  let fcode: unknown;
  if (body !== undefined && body !== null) {
    if (typeof body !== 'object' || Array.isArray(body)) {
      problems.push({ field: 'body', message: 'must be a JSON object' });
    } else {
      for (const key of Object.keys(body)) {
        if (key !== 'quantity' && key !== 'fcode') problems.push({ field: key, message: `property ${key} should not exist` });
      }
      ({ quantity, fcode } = body as { quantity?: unknown; fcode?: unknown });
    }
  }
  if (quantity !== undefined && quantity !== null) {
    if (typeof quantity !== 'number' || !Number.isInteger(quantity)) problems.push({ field: 'quantity', message: 'quantity must be an integer number' });
    else if (quantity < 1) problems.push({ field: 'quantity', message: 'quantity must not be less than 1' });
    else if (quantity > MAX_QUANTITY) problems.push({ field: 'quantity', message: `quantity must not be greater than ${MAX_QUANTITY}` });
  }
  if (fcode !== undefined && fcode !== null) {
    if (typeof fcode !== 'string') problems.push({ field: 'fcode', message: 'fcode must be a string' });
    else if (fcode.length < 1 || fcode.length > FCODE_MAX_LENGTH) {
      problems.push({ field: 'fcode', message: `fcode must be longer than or equal to 1 and shorter than or equal to ${FCODE_MAX_LENGTH} characters` });
    } else if (ANY_CONTROL_CHARACTER.test(fcode)) problems.push({ field: 'fcode', message: 'fcode must not contain control characters' });
  }
  if (problems.length > 0) throw SellException.validation(problems);

  return {
    saleId,
    quantity: (quantity as number | null | undefined) ?? 1,
    fcode: (fcode as string | null | undefined) ?? undefined,
    idempotencyKey: idempotencyKey as string | undefined,
  };
}
