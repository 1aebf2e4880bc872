/** How buyers are let in to a sale (open, waiting room or lottery). */
export const ADMISSION_MODES = ['open', 'queue', 'lottery'] as const;
export type AdmissionMode = (typeof ADMISSION_MODES)[number];

/** Bounds and defaults of the admission settings of a sale. */
export const ADMISSION_LIMITS = {
  defaultMode: 'open' as AdmissionMode,
  defaultRatePerSecond: 1000,
  ratePerSecondMin: 1,
  ratePerSecondMax: 100_000,
  defaultTtlSeconds: 120,
  ttlSecondsMin: 10,
  ttlSecondsMax: 3600,
  defaultPurchaseWindowSeconds: 3600,
  purchaseWindowSecondsMin: 60,
  purchaseWindowSecondsMax: 86_400,
} as const;

