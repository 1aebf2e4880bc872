import { createTestApp, TestApp, uniqueId } from './support/test-app';

const MINUTE = 60_000;
const iso = (epochMs: number) => new Date(epochMs).toISOString();

describe('GET /api/admin/sales (the sales archive)', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await createTestApp();
  });
  afterAll(async () => {
    await app.close();
  });

  const list = (query: string, token = app.opsToken()) => app.request('GET', `/api/admin/sales${query}`, { token });

  async function createSale(name: string, sku: string, times: { startsAt: number } & Record<string, number>, extra: Record<string, unknown> = {}) {
    const body: Record<string, unknown> = { sku, name, priceCents: 100, stock: 5, ...extra };
    for (const [field, value] of Object.entries(times)) body[field] = iso(value);
    const response = await app.request('POST', '/api/admin/sales', { token: app.opsToken(), body });
    expect(response.status).toBe(201);
    return response.body as { id: string; startsAt: string };
  }

  /** Every page of a query, following nextCursor. */
  async function allPages(query: string): Promise<{ ids: string[]; pages: number }> {
    const ids: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const response = await list(`${query}${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`);
      expect(response.status).toBe(200);
      ids.push(...response.body.items.map((sale: { id: string }) => sale.id));
      cursor = response.body.nextCursor;
      pages += 1;
    } while (cursor !== null && pages < 20);
    return { ids, pages };
  }

  describe('when sales are in every phase', () => {
    const tag = uniqueId('arch');
    const sales: Record<string, string> = {};

    beforeAll(async () => {
      const base = app.clock.now();
      sales.ended = (await createSale(`Ended ${tag}`, `${tag}-ended`, { startsAt: base + 10 * MINUTE, endsAt: base + 20 * MINUTE })).id;
      sales.soldOut = (await createSale(`Sold out ${tag}`, `${tag}-sold`, { startsAt: base + 40 * MINUTE }, { stock: 1 })).id;
      sales.live = (await createSale(`Live ${tag}`, `${tag}-live`, { startsAt: base + 40 * MINUTE })).id;
      sales.paused = (await createSale(`Paused ${tag}`, `${tag}-paused`, { startsAt: base + 40 * MINUTE })).id;
      sales.priority = (await createSale(`Priority ${tag}`, `${tag}-priority`, { fcodeOpensAt: base + 44 * MINUTE, startsAt: base + 50 * MINUTE })).id;
      sales.waiting = (await createSale(`Waiting ${tag}`, `${tag}-waiting`, { reservationClosesAt: base + 41 * MINUTE, fcodeOpensAt: base + 55 * MINUTE, startsAt: base + 60 * MINUTE })).id;
      sales.reservation = (await createSale(`Reservation ${tag}`, `${tag}-reservation`, { startsAt: base + 70 * MINUTE })).id;
      sales.upcoming = (await createSale(`Upcoming ${tag}`, `${tag}-upcoming`, { reservationOpensAt: base + 2 * 60 * MINUTE, startsAt: base + 3 * 60 * MINUTE })).id;
      expect((await app.request('POST', `/api/admin/sales/${sales.soldOut}/stock`, { token: app.opsToken(), body: { add: -1, pool: 'general' } })).status).toBe(200);
      expect((await app.request('POST', `/api/admin/sales/${sales.paused}/pause`, { token: app.opsToken() })).status).toBe(200);
      app.clock.set(base + 45 * MINUTE);
    });

    it('lists every one of them, ended included, newest startsAt first', async () => {
      const response = await list(`?q=${tag}`);
      expect(response.status).toBe(200);
      const phases = response.body.items.map((sale: { id: string; phase: string }) => [sale.id, sale.phase]);
      expect(phases).toEqual([
        [sales.upcoming, 'upcoming'],
        [sales.reservation, 'reservation'],
        [sales.waiting, 'waiting'],
        [sales.priority, 'priority'],
        // Three sales share a start: the later id first.
        ...[
          [sales.soldOut, 'sold_out'],
          [sales.live, 'live'],
          [sales.paused, 'paused'],
        ].sort((left, right) => (left[0] < right[0] ? 1 : -1)),
        [sales.ended, 'ended'],
      ]);
      expect(response.body.nextCursor).toBeNull();
      expect(response.body.items[0]).toMatchObject({ sku: `${tag}-upcoming`, remaining: 5, fcodeRemaining: 0, reservations: 0 });
    });

    it.each([
      ['live', ['live']],
      ['sold_out', ['soldOut']],
      ['ended,paused', ['paused', 'ended']],
      ['priority,waiting', ['waiting', 'priority']],
      ['reservation,upcoming', ['upcoming', 'reservation']],
    ])('filters by phase=%s', async (phase, expected) => {
      const response = await list(`?q=${tag}&phase=${phase}`);
      expect(response.status).toBe(200);
      expect(response.body.items.map((sale: { id: string }) => sale.id)).toEqual(expected.map((name) => sales[name]));
    });

    it('pages through them with a cursor, each sale once, in the same order as one page', async () => {
      const whole = (await list(`?q=${tag}`)).body.items.map((sale: { id: string }) => sale.id);
      for (const limit of [1, 2, 3, 7]) {
        const paged = await allPages(`?q=${tag}&limit=${limit}`);
        expect(paged.ids).toEqual(whole);
        expect(paged.pages).toBe(Math.ceil(whole.length / limit));
      }
    });

    it('pages through a phase filter that the database cannot decide alone (live vs sold out)', async () => {
      const paged = await allPages(`?q=${tag}&phase=live,paused,ended&limit=1`);
      expect(paged.ids).toEqual([sales.live, sales.paused].sort().reverse().concat(sales.ended));
    });

    it('finds text in the sku or the name, in any case', async () => {
      expect((await list(`?q=${encodeURIComponent(`sold OUT ${tag.toUpperCase()}`)}`)).body.items.map((sale: { id: string }) => sale.id)).toEqual([sales.soldOut]);
      expect((await list(`?q=${encodeURIComponent(`${tag.toUpperCase()}-PAUSED`)}`)).body.items.map((sale: { id: string }) => sale.id)).toEqual([sales.paused]);
    });
  });

  it('takes % and _ in q literally', async () => {
    const tag = uniqueId('lit');
    const percent = await createSale(`100% ${tag}`, `${tag}-a`, { startsAt: app.clock.now() + 60 * MINUTE });
    await createSale(`100x ${tag}`, `${tag}_b`, { startsAt: app.clock.now() + 60 * MINUTE });
    expect((await list(`?q=${encodeURIComponent(`100% ${tag}`)}`)).body.items.map((sale: { id: string }) => sale.id)).toEqual([percent.id]);
    expect((await list(`?q=${encodeURIComponent(`${tag}_`)}`)).body.items.map((sale: { sku: string }) => sale.sku)).toEqual([`${tag}_b`]);
  });

  describe('when the query is malformed', () => {
    it.each([
      ['?phase=bogus', 'phase'],
      ['?phase=live,', 'phase'],
      ['?limit=0', 'limit'],
      ['?limit=201', 'limit'],
      ['?limit=abc', 'limit'],
      ['?limit=1.5', 'limit'],
      ['?cursor=not-a-cursor', 'cursor'],
      [`?cursor=${Buffer.from(JSON.stringify([1, 'a b'])).toString('base64url')}`, 'cursor'],
      [`?q=${'x'.repeat(201)}`, 'q'],
      ['?phase=live&phase=ended', 'phase'],
      ['?color=red', 'color'],
    ])('refuses %s with 400 VALIDATION_FAILED naming the field', async (query, field) => {
      const response = await list(query);
      expect(response.status).toBe(400);
      expect(response.body.code).toBe('VALIDATION_FAILED');
      expect(response.body.details.map((detail: { field: string }) => detail.field)).toContain(field);
    });

    it('is for ops only', async () => {
      expect((await list('', app.token('buyer-1'))).status).toBe(403);
      expect((await app.request('GET', '/api/admin/sales')).status).toBe(401);
    });
  });

  it('is documented in the OpenAPI document, with the report and the F-code batches', async () => {
    const document = (await app.request('GET', '/docs-json')).body;
    for (const path of ['/api/admin/sales', '/api/admin/sales/{saleId}/report', '/api/admin/sales/{saleId}/fcodes/batches']) {
      const operation = document.paths[path]?.get;
      expect(operation).toMatchObject({ summary: expect.any(String), security: [{ bearer: [] }] });
      expect(Object.keys(operation.responses)).toEqual(expect.arrayContaining(['200', '400', '401', '403']));
    }
    expect(document.paths['/api/admin/sales'].get.parameters.map((parameter: { name: string }) => parameter.name).sort()).toEqual(['cursor', 'limit', 'phase', 'q']);
    expect(Object.keys(document.components.schemas.SaleReportDto.properties)).toEqual(expect.arrayContaining(['units', 'orders', 'payments', 'fcodes', 'soldOutAt', 'consistent', 'differences']));
  });
});
