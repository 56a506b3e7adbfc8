import type { RunStats } from './stats.ts';

/** One row of the results table. */
export type Row = {
  id: string;
  label: string;
  /** Undefined when the column could not run; `error` then says why. */
  stats?: RunStats;
  /** Peak RSS of the process that did the work (shared by rows of one process). */
  peakRssMb?: number;
  /** Concurrency the load used for this row. */
  concurrency?: number;
  error?: string;
};

/** A ratio between two rows' req/s, with its target. */
export type Ratio = { name: string; numerator: string; denominator: string; target?: number };

const fmt = (value: number | undefined, digits = 1): string =>
  value === undefined || Number.isNaN(value) ? '–' : value.toFixed(digits);

function rowLine(row: Row): string {
  if (row.stats === undefined) {
    return `| ${row.id} | ${row.label} | – | – | – | – | – | – | – | – | – | not run: ${firstLine(row.error ?? 'unknown')} |`;
  }
  const s = row.stats;
  const cells = [
    row.id,
    row.label,
    fmt(s.rps),
    fmt(s.meanMs),
    fmt(s.p50Ms),
    fmt(s.p99Ms),
    fmt(s.meanBytes / 1024),
    fmt(s.cpuMsPerOp, 2),
    fmt(row.peakRssMb, 0),
    `${s.count} / ${row.concurrency ?? '–'}`,
    String(s.errors),
    s.notes.join('; '),
  ];
  return `| ${cells.join(' | ')} |`;
}

function firstLine(text: string): string {
  return (text.split('\n').find((l) => l.trim() !== '') ?? text)
    .replaceAll('|', '\\|')
    .slice(0, 200);
}

/** req/s of `numerator` over req/s of `denominator`, or undefined when either is missing. */
function ratioValue(rows: readonly Row[], ratio: Ratio): number | undefined {
  const a = rows.find((r) => r.id === ratio.numerator)?.stats?.rps;
  const b = rows.find((r) => r.id === ratio.denominator)?.stats?.rps;
  return a === undefined || b === undefined || b === 0 ? undefined : a / b;
}

/**
 * The same ratio in CPU efficiency: the denominator's CPU per request over the numerator's,
 * i.e. the req/s ratio on an otherwise idle machine where CPU is the bottleneck.
 */
function cpuRatioValue(rows: readonly Row[], ratio: Ratio): number | undefined {
  const a = rows.find((r) => r.id === ratio.numerator)?.stats?.cpuMsPerOp;
  const b = rows.find((r) => r.id === ratio.denominator)?.stats?.cpuMsPerOp;
  return a === undefined || b === undefined || a === 0 ? undefined : b / a;
}

/** The Markdown results: the table, the ratios, and the context lines. */
export function renderMarkdown(input: {
  title: string;
  context: string[];
  rows: Row[];
  ratios: Ratio[];
}): string {
  const lines = [`## ${input.title}`, '', ...input.context.map((c) => `- ${c}`), ''];
  lines.push(
    '| # | column | req/s | mean ms | p50 ms | p99 ms | mean body KB | CPU ms/req | peak RSS MB | requests / concurrency | errors | notes |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
    ...input.rows.map(rowLine),
    '',
    '| ratio | req/s | CPU per request (inverse) | target | req/s verdict |',
    '|---|---:|---:|---:|---|',
  );
  for (const ratio of input.ratios) {
    const value = ratioValue(input.rows, ratio);
    const target = ratio.target === undefined ? '–' : `≥ ${ratio.target}`;
    const verdict =
      value === undefined
        ? 'n/a'
        : ratio.target === undefined
          ? ''
          : value >= ratio.target
            ? 'met'
            : 'MISSED';
    const cpu = fmt(cpuRatioValue(input.rows, ratio), 2);
    lines.push(`| ${ratio.name} | ${fmt(value, 2)} | ${cpu} | ${target} | ${verdict} |`);
  }
  const failures = input.rows.filter(
    (r) => r.error !== undefined && !r.error.startsWith('skipped'),
  );
  if (failures.length > 0) {
    lines.push('', '### Columns that did not run', '');
    for (const row of failures)
      lines.push(`- **${row.id}** ${row.label}:`, '', '```', row.error!.slice(-3000), '```');
  }
  return `${lines.join('\n')}\n`;
}
