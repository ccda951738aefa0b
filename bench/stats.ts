// Percentile summaries and table formatting shared by the benchmark parts.

export interface Summary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentiles (no interpolation: every figure is a value that was actually measured). */
export function summarize(values: readonly number[]): Summary {
  if (values.length === 0) return { count: 0, p50: NaN, p95: NaN, p99: NaN, max: NaN, mean: NaN };
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
  const sum = sorted.reduce((a, b) => a + b, 0);
  return {
    count: sorted.length,
    p50: round(rank(50)),
    p95: round(rank(95)),
    p99: round(rank(99)),
    max: round(sorted[sorted.length - 1] as number),
    mean: round(sum / sorted.length),
  };
}

export function round(value: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** A plain-text table with right-aligned numeric columns. */
export function table(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((row) => row.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((row) => (row[i] ?? '').length)));
  const line = (row: string[]): string =>
    row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] as number) : cell.padStart(widths[i] as number))).join('  ');
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

/** The same table as GitHub markdown (for bench/README.md). */
export function markdownTable(headers: string[], rows: (string | number)[][]): string {
  const line = (row: (string | number)[]): string => `| ${row.map(String).join(' | ')} |`;
  // Right-align the columns whose cells are all figures ("12.5", "5.66×", "0.2 / 1.9", "50/0"); left-align the rest.
  const figure = /^[\d.\s/×]*$/;
  const numeric = headers.map((_, i) => rows.every((row) => figure.test(String(row[i] ?? ''))) && rows.some((row) => String(row[i] ?? '') !== ''));
  return [line(headers), line(numeric.map((n) => (n ? '---:' : '---'))), ...rows.map(line)].join('\n');
}
