import type { Registry } from 'prom-client';

type Labels = Record<string, string>;

/** A value as prom-client's registry renders it: a metric line's labels, value and name suffix. */
interface ExportedValue {
  labels: Labels;
  sharedLabels?: Labels;
  value: number;
  metricName?: string;
}

interface Exported {
  name: string;
  help: string;
  type: 'counter' | 'histogram';
  values: ExportedValue[];
  aggregator: 'sum';
}

/**
 * The base of the metrics that a sell-out updates on every request. prom-client's Counter and Histogram
 * check and hash the label object on each update (and the purchase route makes four); these find their
 * cell with one Map lookup on the label values joined,
 * and build the label object only when a new combination first appears. They register with a
 * prom-client Registry like its own metrics and render exactly as those do (a spec compares the two
 * expositions line by line).
 */
abstract class HotMetric<Cell extends { labels: Labels }> {
  protected readonly cells = new Map<string, Cell>();

  protected constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelNames: readonly string[],
    registry: Registry,
  ) {
    registry.registerMetric(this as never);
  }

  reset(): void {
    this.cells.clear();
    this.showZero();
  }

  /** Like prom-client, a metric without labels shows its zero before its first update. */
  protected showZero(): void {
    if (this.labelNames.length === 0) this.cellFor([]);
  }

  protected abstract newCell(labels: Labels): Cell;

  /** The cell of these label values (in the order of `labelNames`), created on first use. */
  protected cellFor(labelValues: readonly string[]): Cell {
    let key = labelValues.length === 0 ? '' : labelValues[0];
    for (let index = 1; index < labelValues.length; index++) key += '\u0000' + labelValues[index];
    let cell = this.cells.get(key);
    if (cell === undefined) {
      if (labelValues.length !== this.labelNames.length) throw new Error(`${this.name} takes the labels ${this.labelNames.join(', ')}; got ${labelValues.length} value(s)`);
      cell = this.newCell(Object.fromEntries(this.labelNames.map((labelName, index) => [labelName, labelValues[index]])));
      this.cells.set(key, cell);
    }
    return cell;
  }
}

interface CounterCell {
  labels: Labels;
  value: number;
}

/** A Prometheus counter (`inc([labelValues…])`). */
export class HotCounter extends HotMetric<CounterCell> {
  constructor(name: string, help: string, labelNames: readonly string[], registry: Registry) {
    super(name, help, labelNames, registry);
    this.showZero();
  }

  inc(labelValues: readonly string[], by = 1): void {
    this.cellFor(labelValues).value += by;
  }

  get(): Exported {
    return { name: this.name, help: this.help, type: 'counter', values: [...this.cells.values()].map(({ labels, value }) => ({ labels, value })), aggregator: 'sum' };
  }

  protected newCell(labels: Labels): CounterCell {
    return { labels, value: 0 };
  }
}

interface HistogramCell {
  labels: Labels;
  /** Observations per bucket, not cumulative; those above the last bound are only in `count`. */
  buckets: Float64Array;
  sum: number;
  count: number;
}

/** A Prometheus histogram (`observe([labelValues…], value)`) over fixed upper bounds. */
export class HotHistogram extends HotMetric<HistogramCell> {
  private readonly upperBounds: readonly number[];

  constructor(name: string, help: string, labelNames: readonly string[], upperBounds: readonly number[], registry: Registry) {
    super(name, help, labelNames, registry);
    this.upperBounds = [...upperBounds].sort((left, right) => left - right);
    this.showZero();
  }

  observe(labelValues: readonly string[], value: number): void {
    const cell = this.cellFor(labelValues);
    const bounds = this.upperBounds;
    for (let index = 0; index < bounds.length; index++) {
      if (value <= bounds[index]) {
        cell.buckets[index]++;
        break;
      }
    }
    cell.sum += value;
    cell.count++;
  }

  /** What the registry renders (the layout of prom-client's `Histogram.getForPromString`). */
  getForPromString(): Exported {
    const bucketName = `${this.name}_bucket`;
    const values: ExportedValue[] = [];
    for (const { labels, buckets, sum, count } of this.cells.values()) {
      let cumulative = 0;
      this.upperBounds.forEach((bound, index) => {
        cumulative += buckets[index];
        values.push({ labels: { le: bound as unknown as string }, sharedLabels: labels, value: cumulative, metricName: bucketName });
      });
      values.push(
        { labels: { le: '+Inf' }, sharedLabels: labels, value: count, metricName: bucketName },
        { labels: {}, sharedLabels: labels, value: sum, metricName: `${this.name}_sum` },
        { labels: {}, sharedLabels: labels, value: count, metricName: `${this.name}_count` },
      );
    }
    return { name: this.name, help: this.help, type: 'histogram', values, aggregator: 'sum' };
  }

  /** The same values with each line's labels in one object, as prom-client's `Histogram.get`. */
  get(): Exported {
    const exported = this.getForPromString();
    return { ...exported, values: exported.values.map(({ labels, sharedLabels, value, metricName }) => ({ labels: { ...labels, ...sharedLabels }, value, metricName })) };
  }

  protected newCell(labels: Labels): HistogramCell {
    return { labels, buckets: new Float64Array(this.upperBounds.length), sum: 0, count: 0 };
  }
}
