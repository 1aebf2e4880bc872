import fc from 'fast-check';
import { Counter, Histogram, Registry } from 'prom-client';
import { HotCounter, HotHistogram } from './hot-metrics';

const BOUNDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
// Label values include the characters the exposition format escapes.
const labelValue = fc.constantFrom('/api/sales/:saleId/purchase', 'POST', 'GET', '201', '409', 'a"b', 'back\\slash', 'new\nline', '');
// Values on, between and beyond the bounds.
const observed = fc.oneof(fc.constantFrom(...BOUNDS, 0, 2.5000001, 7), fc.double({ min: 0, max: 3, noNaN: true }));

/** Both registries' text exposition, after applying the same updates to each. */
async function expositions(apply: (hot: Registry, reference: Registry) => void): Promise<[string, string]> {
  const hot = new Registry();
  const reference = new Registry();
  apply(hot, reference);
  return [await hot.metrics(), await reference.metrics()];
}

describe('HotCounter and HotHistogram', () => {
  it('render exactly as prom-client renders the same updates', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(labelValue, labelValue, labelValue, observed, fc.integer({ min: 1, max: 5 })), { maxLength: 60 }), async (updates) => {
        const [hotText, referenceText] = await expositions((hotRegistry, referenceRegistry) => {
          const hotCounter = new HotCounter('requests_total', 'Requests', ['route', 'method', 'status'], hotRegistry);
          const hotHistogram = new HotHistogram('duration_seconds', 'Latency', ['route', 'method'], BOUNDS, hotRegistry);
          const hotPlain = new HotHistogram('plain_seconds', 'No labels', [], [0.1, 0.5, 1], hotRegistry);
          const hotOutcomes = new HotCounter('outcomes_total', 'Outcomes', [], hotRegistry);
          const counter = new Counter({ name: 'requests_total', help: 'Requests', labelNames: ['route', 'method', 'status'], registers: [referenceRegistry] });
          const histogram = new Histogram({ name: 'duration_seconds', help: 'Latency', labelNames: ['route', 'method'], buckets: BOUNDS, registers: [referenceRegistry] });
          const plain = new Histogram({ name: 'plain_seconds', help: 'No labels', buckets: [0.1, 0.5, 1], registers: [referenceRegistry] });
          const outcomes = new Counter({ name: 'outcomes_total', help: 'Outcomes', registers: [referenceRegistry] });
          for (const [route, method, status, value, by] of updates) {
            hotCounter.inc([route, method, status], by);
            counter.inc({ route, method, status }, by);
            hotHistogram.observe([route, method], value);
            histogram.observe({ route, method }, value);
            hotPlain.observe([], value);
            plain.observe(value);
            hotOutcomes.inc([]);
            outcomes.inc();
          }
        });
        expect(hotText).toBe(referenceText);
      }),
      { numRuns: 300 },
    );
  });

  it('give the same values as prom-client to code that reads them', async () => {
    const registry = new Registry();
    const hot = new HotCounter('outcomes_total', 'Outcomes', ['code'], registry);
    const reference = new Counter({ name: 'outcomes_total', help: 'Outcomes', labelNames: ['code'], registers: [new Registry()] });
    for (const code of ['CREATED', 'SOLD_OUT', 'CREATED']) {
      hot.inc([code]);
      reference.inc({ code });
    }
    expect(hot.get().values).toEqual((await reference.get()).values);

    const latency = new HotHistogram('latency_seconds', 'Latency', ['route'], [0.1, 1], registry);
    const referenceLatency = new Histogram({ name: 'latency_seconds', help: 'Latency', labelNames: ['route'], buckets: [0.1, 1], registers: [new Registry()] });
    latency.observe(['/x'], 0.5);
    referenceLatency.observe({ route: '/x' }, 0.5);
    expect(latency.get().values).toEqual((await referenceLatency.get()).values.map(({ labels, value, metricName }) => ({ labels, value, metricName })));
  });

  it('start again from zero on reset, keeping the zero line of a metric without labels', async () => {
    const registry = new Registry();
    const counter = new HotCounter('plain_total', 'Plain', [], registry);
    const labelled = new HotCounter('labelled_total', 'Labelled', ['code'], registry);
    counter.inc([], 3);
    labelled.inc(['A']);
    registry.resetMetrics();
    expect(counter.get().values).toEqual([{ labels: {}, value: 0 }]);
    expect(labelled.get().values).toEqual([]);
  });

  it('refuse label values that do not match the label names', () => {
    const counter = new HotCounter('strict_total', 'Strict', ['route', 'method'], new Registry());
    expect(() => counter.inc(['/only-route'])).toThrow('strict_total takes the labels route, method; got 1 value(s)');
  });
});
