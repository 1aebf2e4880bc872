import type { AdmissionMode } from '../contract/admission';

export { ADMISSION_LIMITS, ADMISSION_MODES, type AdmissionMode } from '../contract/admission';

/** The admission settings of a sale as stored (the two times null while they follow the sale's own). */
export interface AdmissionSettings {
  admission: AdmissionMode;
  queueOpensAt: number | null;
  admissionRatePerSecond: number;
  admissionTtlSeconds: number;
  lotteryClosesAt: number | null;
  purchaseWindowSeconds: number;
}

/** When the waiting room opens: `queueOpensAt`, or the reservation close when unset. */
export function queueOpensAtOf(sale: Pick<AdmissionSettings, 'queueOpensAt'> & { reservationClosesAt: number }): number {
  return sale.queueOpensAt ?? sale.reservationClosesAt;
}

/** When lottery entries close: `lotteryClosesAt`, or the start when unset. */
export function lotteryClosesAtOf(sale: Pick<AdmissionSettings, 'lotteryClosesAt'> & { startsAt: number }): number {
  return sale.lotteryClosesAt ?? sale.startsAt;
}
