import { randomInt } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { FcodeEntity } from '../src/fcodes/fcode.entity';
import { buy, parseCsv } from './fcodes.fixtures';
import { assertInvariants } from './support/invariants';
import { buyerIds, createSale, openSale } from './support/sales';
import { createTestApp, TestApp } from './support/test-app';

const BATCH = 100_000;
const SAMPLE = 200;

/** A full-size batch: issued in one call, exported, and a random sample redeemed through the hot path. */
describe('F-codes at full batch size', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await createTestApp();
  });
  afterAll(async () => {
    await app.close();
  });

  describe(`when ops issue ${BATCH.toLocaleString('en')} codes and export them`, () => {
    it('exports every code once, and every exported code works exactly once', async () => {
      const sale = await createSale(app, { stock: 1, fcodeStock: SAMPLE });

      let started = performance.now();
      const issued = await app.request('POST', `/api/admin/sales/${sale.id}/fcodes`, { token: app.opsToken(), body: { count: BATCH } });
      const issueMs = performance.now() - started;
      expect(issued.status).toBe(201);
      const codes: string[] = issued.body.codes;
      expect(codes).toHaveLength(BATCH);
      expect(new Set(codes).size).toBe(BATCH);
      expect(await app.database.manager.count(FcodeEntity, { where: { saleId: sale.id } })).toBe(BATCH);

      started = performance.now();
      const exported = await app.request('GET', `/api/admin/sales/${sale.id}/fcodes.csv?batchId=${issued.body.batchId}`, { token: app.opsToken() });
      const exportMs = performance.now() - started;
      expect(exported.status).toBe(200);
      const { header, rows } = parseCsv(exported.text);
      expect(header).toBe('code,userId,status,expiresAt');
      expect(rows).toHaveLength(BATCH);
      expect(new Set(rows.map((row) => row.code))).toEqual(new Set(codes));
      expect(rows.every((row) => row.status === 'issued' && row.userId === '' && row.expiresAt === '')).toBe(true);
      console.log(`[fcodes-bulk] ${app.database.kind}: issued ${BATCH} codes in ${Math.round(issueMs)} ms, exported them in ${Math.round(exportMs)} ms`);

      // A random sample of the exported codes, each redeemed by a different buyer, all at once.
      const sample = new Set<string>();
      while (sample.size < SAMPLE) sample.add(rows[randomInt(rows.length)].code);
      const sampled = [...sample];
      openSale(app, sale);
      const buyers = buyerIds(SAMPLE);
      const firstUses = await Promise.all(sampled.map((code, index) => buy(app, sale.id, buyers[index], { fcode: code })));
      expect(firstUses.map((response) => response.status)).toEqual(Array(SAMPLE).fill(201));
      expect(firstUses.every((response) => response.body.pool === 'fcode')).toBe(true);

      const secondUses = await Promise.all(sampled.map((code, index) => buy(app, sale.id, `${buyers[index]}-again`, { fcode: code })));
      expect(secondUses.map((response) => response.body.code)).toEqual(Array(SAMPLE).fill('FCODE_USED'));

      const summary = await app.request('GET', `/api/admin/sales/${sale.id}/fcodes/summary`, { token: app.opsToken() });
      expect(summary.body).toEqual({ issued: BATCH, redeemed: SAMPLE, void: 0, expired: 0 });
      const statuses = parseCsv((await app.request('GET', `/api/admin/sales/${sale.id}/fcodes.csv`, { token: app.opsToken() })).text).rows;
      expect(statuses.filter((row) => row.status === 'redeemed').map((row) => row.code).sort()).toEqual([...sampled].sort());
      await assertInvariants(app, sale.id);
    });
  });
});
