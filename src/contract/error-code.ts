/** Every error code of the HTTP contract (docs/api.md, "Errors") plus the few the service adds. */
export enum ErrorCode {
  ValidationFailed = 'VALIDATION_FAILED',
  Unauthenticated = 'UNAUTHENTICATED',
  Forbidden = 'FORBIDDEN',
  NotEligible = 'NOT_ELIGIBLE',
  NotAdmitted = 'NOT_ADMITTED',
  FcodeInvalid = 'FCODE_INVALID',
  SaleNotFound = 'SALE_NOT_FOUND',
  OrderNotFound = 'ORDER_NOT_FOUND',
  ReservationNotFound = 'RESERVATION_NOT_FOUND',
  NotFound = 'NOT_FOUND',
  ReservationNotOpen = 'RESERVATION_NOT_OPEN',
  ReservationClosed = 'RESERVATION_CLOSED',
  SaleNotStarted = 'SALE_NOT_STARTED',
  SaleEnded = 'SALE_ENDED',
  SalePaused = 'SALE_PAUSED',
  SoldOut = 'SOLD_OUT',
  LimitReached = 'LIMIT_REACHED',
  FcodeUsed = 'FCODE_USED',
  FcodeExpired = 'FCODE_EXPIRED',
  OrderNotPending = 'ORDER_NOT_PENDING',
  OrderExpired = 'ORDER_EXPIRED',
  SaleLocked = 'SALE_LOCKED',
  PaymentDeclined = 'PAYMENT_DECLINED',
  IdempotencyKeyReused = 'IDEMPOTENCY_KEY_REUSED',
  RateLimited = 'RATE_LIMITED',
  Unavailable = 'UNAVAILABLE',
  OutcomeUnknown = 'OUTCOME_UNKNOWN',
  Internal = 'INTERNAL',
}

/** The HTTP status of each code. Exhaustive: adding a code without a status does not compile. */
export function httpStatusOf(code: ErrorCode): number {
  switch (code) {
    case ErrorCode.ValidationFailed:
      return 400;
    case ErrorCode.Unauthenticated:
      return 401;
    case ErrorCode.PaymentDeclined:
      return 402;
    case ErrorCode.Forbidden:
    case ErrorCode.NotEligible:
    case ErrorCode.NotAdmitted:
    case ErrorCode.FcodeInvalid:
      return 403;
    case ErrorCode.SaleNotFound:
    case ErrorCode.OrderNotFound:
    case ErrorCode.ReservationNotFound:
    case ErrorCode.NotFound:
      return 404;
    case ErrorCode.ReservationNotOpen:
    case ErrorCode.ReservationClosed:
    case ErrorCode.SaleNotStarted:
    case ErrorCode.SaleEnded:
    case ErrorCode.SalePaused:
    case ErrorCode.SoldOut:
    case ErrorCode.LimitReached:
    case ErrorCode.FcodeUsed:
    case ErrorCode.FcodeExpired:
    case ErrorCode.OrderNotPending:
    case ErrorCode.OrderExpired:
    case ErrorCode.SaleLocked:
      return 409;
    case ErrorCode.IdempotencyKeyReused:
      return 422;
    case ErrorCode.RateLimited:
      return 429;
    case ErrorCode.Unavailable:
    case ErrorCode.OutcomeUnknown:
      return 503;
    case ErrorCode.Internal:
      return 500;
  }
}
