/**
 * Sorting responses into outcomes. A flash sale refuses most buyers by design: SOLD_OUT and LIMIT_REACHED
 * (and, in the F-code scenario, codes that were mistyped or already used on purpose) are the expected
 * answers, not failures. Anything else that is not a success is unexpected and fails the run.
 */
export interface Outcome {
  /** `CREATED` / `OK` for a success, the contract's error code otherwise, `HTTP_<status>` without one. */
  code: string;
  status: number;
  expected: boolean;
}

const CODE_PATTERN = /"code"\s*:\s*"([A-Z_]+)"/;

/** The `code` of an error body, read without parsing the whole body. */
export function errorCodeOf(body: string | null | undefined): string | undefined {
  if (!body) return undefined;
  const match = CODE_PATTERN.exec(body);
  return match ? match[1] : undefined;
}

export function classifyResponse(status: number, body: string | null | undefined, expectedCodes: readonly string[] = []): Outcome {
  if (status === 201) return { code: 'CREATED', status, expected: true };
  if (status >= 200 && status < 300) return { code: 'OK', status, expected: true };
  // k6 reports status 0 (autocannon: no response) when the request never got an answer.
  if (status === 0) return { code: 'NO_RESPONSE', status, expected: false };
  const code = errorCodeOf(body) ?? `HTTP_${status}`;
  return { code, status, expected: expectedCodes.includes(code) };
}

/** Outcomes a flash-sale purchase may have without anything being wrong. */
export const FLASH_SALE_EXPECTED: readonly string[] = ['SOLD_OUT', 'LIMIT_REACHED'];
