/**
 * Reads a table in pages of `pageSize` rows ordered by a unique string key, each page starting after the
 * last key of the one before (keyset pagination: as cheap on the millionth row as on the first).
 * `page(after, pageSize)` returns the rows whose key is greater than `after`, in key order.
 */
export async function* keysetPages<T>(page: (after: string, pageSize: number) => Promise<T[]>, keyOf: (row: T) => string, pageSize: number): AsyncGenerator<T[]> {
  let after = '';
  for (;;) {
    const rows = await page(after, pageSize);
    if (rows.length === 0) return;
    yield rows;
    after = keyOf(rows[rows.length - 1]);
    if (rows.length < pageSize) return;
  }
}
