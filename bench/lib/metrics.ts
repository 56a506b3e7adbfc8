import { request } from 'undici';
import { metricSum } from '../../test/support/fleet.ts';

/** Sum and count of one Prometheus histogram, over all its label sets. */
type HistogramTotals = { sum: number; count: number };

/** Adds up `<name>_sum` and `<name>_count` over every label set of a text exposition. */
function histogramTotals(text: string, name: string): HistogramTotals {
  return { sum: metricSum(text, `${name}_sum`), count: metricSum(text, `${name}_count`) };
}

/** GET /metrics; an empty string when the server has none. */
export async function scrape(origin: string): Promise<string> {
  try {
    const res = await request(`${origin}/metrics`);
    const text = await res.body.text();
    return res.statusCode === 200 ? text : '';
  } catch {
    return '';
  }
}

/** "fetch 12 ms, transform 140 ms" per miss: mean durations of histograms between two scrapes. */
export function describeStages(
  before: string,
  after: string,
  stages: Record<string, string>,
): string {
  const parts: string[] = [];
  for (const [label, metric] of Object.entries(stages)) {
    const a = histogramTotals(before, metric);
    const b = histogramTotals(after, metric);
    const count = b.count - a.count;
    if (count > 0)
      parts.push(`${label} ${(((b.sum - a.sum) / count) * 1000).toFixed(0)} ms (×${count})`);
  }
  return parts.length === 0 ? '' : `server-side mean: ${parts.join(', ')}`;
}

/** `name` summed over the label sets that contain `label` (e.g. `stage="sharp"`). */
export function metricSumWith(text: string, name: string, label: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name}{`) && line.includes(label)) {
      sum += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return sum;
}

/** The increase of `name` (with `label`, when given) between two scrapes. */
export function metricDelta(before: string, after: string, name: string, label?: string): number {
  const read = (text: string): number =>
    label === undefined ? metricSum(text, name) : metricSumWith(text, name, label);
  return read(after) - read(before);
}
