// Human-readable figures shared by the tree, the timeline and the source annotations.

/** Formats a duration in microseconds with a sensible unit: "850 us", "12.3 ms", "2.00 s", "3 min 5 s". */
export function formatDuration(us: number): string {
  if (!Number.isFinite(us)) return '?';
  const a = Math.abs(us);
  if (a < 999.5) return `${Math.round(us)} \u00b5s`;
  // Thresholds sit where rounding would print "1000 ms" instead of "1.00 s".
  if (a < 999_500) return `${trim(us / 1000)} ms`;
  if (a < 59_995_000) return `${trim(us / 1_000_000)} s`;
  const s = Math.round(us / 1_000_000);
  return `${Math.floor(s / 60)} min ${s % 60} s`;
}

/** Seconds as given in a trace (e.g. a timeout delay) to text: "1.0 s", "250 ms". */
export function formatSeconds(seconds: number): string {
  if (seconds >= 1 || seconds === 0) return `${seconds.toFixed(seconds % 1 === 0 ? 1 : 2).replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '.0')} s`;
  return formatDuration(seconds * 1_000_000);
}

function trim(v: number): string {
  // Three significant digits: 1.23, 12.3, 123.
  const a = Math.abs(v);
  return a < 10 ? v.toFixed(2) : a < 100 ? v.toFixed(1) : v.toFixed(0);
}
