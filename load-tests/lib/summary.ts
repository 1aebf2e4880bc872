/**
 * The end-of-test summary shared by every scenario (`export function handleSummary`): a readable text
 * summary on stdout and in a `.txt` file, and the whole k6 summary plus a verdict in a `.json` file.
 * Written here instead of importing k6's jslib text summary, so the scripts need nothing remote.
 */
export interface SummaryMetric {
  type: 'counter' | 'gauge' | 'rate' | 'trend';
  contains?: 'default' | 'time' | 'data';
  values: Record<string, number>;
  thresholds?: Record<string, { ok: boolean }>;
}

export interface SummaryCheck {
  name: string;
  passes: number;
  fails: number;
}

export interface SummaryGroup {
  name: string;
  checks?: SummaryCheck[];
  groups?: SummaryGroup[];
}

/** The part of k6's handleSummary() argument that the summary reads. */
export interface SummaryData {
  metrics: Record<string, SummaryMetric>;
  root_group?: SummaryGroup;
  state?: { testRunDurationMs?: number };
}

export interface ThresholdResult {
  metric: string;
  expression: string;
  ok: boolean;
  /** The statistic the expression tests, e.g. `p(99)=42.10ms`, when it can be read from the metric. */
  observed?: string;
}

export interface Verdict {
  scenario: string;
  passed: boolean;
  thresholds: ThresholdResult[];
  checks: { passes: number; fails: number };
  durationSeconds: number;
}

export interface SummaryOptions {
  scenario: string;
  /** Folder the files go to (it must exist: k6 does not create it). */
  outDir: string;
  /** When the run ended, for the file names; now by default. */
  finishedAt?: Date;
  /** Lines the scenario wants printed under the verdict (e.g. its stock check). */
  notes?: string[];
}

function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value)) return value.toLocaleString('en-US');
  return value.toFixed(Math.abs(value) >= 100 ? 1 : 2);
}

function formatStatistic(metric: SummaryMetric, statistic: string, value: number): string {
  if (metric.type === 'rate' && statistic === 'rate') return `${(value * 100).toFixed(2)}%`;
  if (metric.contains === 'time' && statistic !== 'count' && statistic !== 'rate') return value >= 1000 ? `${(value / 1000).toFixed(2)}s` : `${value.toFixed(2)}ms`;
  if (metric.contains === 'data' && statistic !== 'rate') return `${(value / 1024).toFixed(1)}kB`;
  if (statistic === 'rate') return `${formatNumber(value)}/s`;
  return formatNumber(value);
}

/** The statistic a threshold expression (`p(99)<200`, `count==0`, `rate>0.99`) tests. */
function statisticOf(expression: string): string | undefined {
  const match = /^\s*(p\(\d+(?:\.\d+)?\)|avg|min|med|max|count|rate|value)\s*[<>=!]/.exec(expression);
  return match ? match[1] : undefined;
}

export function thresholdResults(data: SummaryData): ThresholdResult[] {
  const results: ThresholdResult[] = [];
  for (const name of Object.keys(data.metrics).sort()) {
    const metric = data.metrics[name];
    for (const [expression, result] of Object.entries(metric.thresholds ?? {})) {
      const statistic = statisticOf(expression);
      const value = statistic === undefined ? undefined : metric.values[statistic];
      results.push({ metric: name, expression, ok: result.ok, observed: value === undefined ? undefined : `${statistic}=${formatStatistic(metric, statistic as string, value)}` });
    }
  }
  return results;
}

function collectChecks(group: SummaryGroup | undefined, into: SummaryCheck[]): SummaryCheck[] {
  if (!group) return into;
  for (const check of group.checks ?? []) into.push(check);
  for (const child of group.groups ?? []) collectChecks(child, into);
  return into;
}

export function verdictOf(data: SummaryData, scenario: string): Verdict {
  const thresholds = thresholdResults(data);
  const checks = collectChecks(data.root_group, []).reduce((total, check) => ({ passes: total.passes + check.passes, fails: total.fails + check.fails }), { passes: 0, fails: 0 });
  return {
    scenario,
    passed: thresholds.every((threshold) => threshold.ok),
    thresholds,
    checks,
    durationSeconds: (data.state?.testRunDurationMs ?? 0) / 1000,
  };
}

function describeMetric(metric: SummaryMetric): string {
  const order = metric.type === 'trend' ? ['avg', 'min', 'med', 'p(90)', 'p(95)', 'p(99)', 'max'] : metric.type === 'counter' ? ['count', 'rate'] : metric.type === 'rate' ? ['rate', 'passes', 'fails'] : ['value', 'min', 'max'];
  const known = order.filter((statistic) => metric.values[statistic] !== undefined);
  const rest = Object.keys(metric.values).filter((statistic) => !order.includes(statistic)).sort();
  return [...known, ...rest].map((statistic) => `${statistic}=${formatStatistic(metric, statistic, metric.values[statistic])}`).join('  ');
}

/** Custom metrics and the HTTP ones a reader of a flash-sale run looks at; k6's plumbing metrics are left out. */
const HIDDEN_METRICS = /^(http_req_(blocked|connecting|tls_handshaking|sending|waiting|receiving)|data_(sent|received)|iteration_duration|vus|vus_max)(\{|$)/;

export function renderTextSummary(data: SummaryData, scenario: string, notes: string[] = []): string {
  const verdict = verdictOf(data, scenario);
  const lines: string[] = [];
  lines.push(`Sellout load test: ${scenario} (${verdict.durationSeconds.toFixed(1)} s)`);
  lines.push('');
  lines.push('Thresholds');
  if (verdict.thresholds.length === 0) lines.push('  (none)');
  for (const threshold of verdict.thresholds) {
    lines.push(`  ${threshold.ok ? 'PASS' : 'FAIL'}  ${threshold.metric}  ${threshold.expression}${threshold.observed ? `  (${threshold.observed})` : ''}`);
  }
  lines.push('');
  const checks = collectChecks(data.root_group, []);
  lines.push(`Checks: ${formatNumber(verdict.checks.passes)} passed, ${formatNumber(verdict.checks.fails)} failed`);
  for (const check of checks.filter((candidate) => candidate.fails > 0)) lines.push(`  FAIL  ${check.name}: ${formatNumber(check.fails)} of ${formatNumber(check.passes + check.fails)}`);
  lines.push('');
  lines.push('Metrics');
  const names = Object.keys(data.metrics).filter((name) => !HIDDEN_METRICS.test(name)).sort();
  const width = Math.min(60, Math.max(0, ...names.map((name) => name.length)));
  for (const name of names) lines.push(`  ${name.padEnd(width)}  ${describeMetric(data.metrics[name])}`);
  if (notes.length > 0) {
    lines.push('');
    for (const note of notes) lines.push(note);
  }
  lines.push('');
  const failed = verdict.thresholds.filter((threshold) => !threshold.ok).length;
  lines.push(verdict.passed ? 'RESULT: PASSED' : `RESULT: FAILED (${failed} threshold${failed === 1 ? '' : 's'} failed)`);
  return `${lines.join('\n')}\n`;
}

/** The object a scenario's handleSummary() returns: stdout plus a `.json` and a `.txt` file. */
export function summaryOutputs(data: SummaryData, options: SummaryOptions): Record<string, string> {
  const finishedAt = options.finishedAt ?? new Date();
  const stamp = finishedAt.toISOString().replace(/[:.]/g, '-');
  const base = `${options.outDir.replace(/\/+$/, '')}/${options.scenario}-${stamp}`;
  const text = renderTextSummary(data, options.scenario, options.notes);
  return {
    stdout: `\n${text}`,
    [`${base}.txt`]: text,
    [`${base}.json`]: JSON.stringify({ verdict: verdictOf(data, options.scenario), notes: options.notes ?? [], finishedAt: finishedAt.toISOString(), summary: data }, null, 2),
  };
}
