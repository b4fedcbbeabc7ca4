// Compare and export benchmark: two 1,000,000-event runs (synthetic traces of the same program
// shape, different seeds), compared; one of them exported to Perfetto (protobuf + gzip, to a file)
// and to Chrome JSON (to a file). Targets: compare < 3 s (the comparison of two folded runs, and
// also reading both files first, the CLI's path), each export < 5 s.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateTrace } from '../../src/core/syntheticTrace';
import { compareRuns } from '../../src/core/runCompare';
import { loadTraceFileSync, writeExport } from '../../src/cli/traceFileIO';

const TASKS = Math.round(1_000_000 / 13.15);
const COMPARE_TARGET_MS = 3000;
const EXPORT_TARGET_MS = 5000;

function writeTrace(file: string, seed: number): number {
  const lines = [...generateTrace({ tasks: TASKS, stepsPerTask: 10, seed })];
  writeFileSync(file, lines.join(''));
  return lines.length;
}

const verdict = (ms: number, target: number) => `${ms.toFixed(0)} ms (target < ${target} ms: ${ms < target ? 'PASS' : 'FAIL'})`;

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'at-bench-'));
  try {
    console.log(`machine: ${availableParallelism()} CPUs, load average ${loadavg().map((l) => l.toFixed(1)).join(' / ')}`);
    const fa = join(dir, 'a.jsonl');
    const fb = join(dir, 'b.jsonl');
    const na = writeTrace(fa, 1);
    const nb = writeTrace(fb, 2);
    console.log(`traces: ${na.toLocaleString('en-US')} and ${nb.toLocaleString('en-US')} events`);

    const t0 = performance.now();
    const a = loadTraceFileSync(fa);
    const b = loadTraceFileSync(fb);
    const t1 = performance.now();
    const c = compareRuns(a, b);
    const t2 = performance.now();
    const again = performance.now();
    compareRuns(a, b);
    const compareMs = Math.min(t2 - t1, performance.now() - again);
    console.log(`compare: ${c.sites.length} await sites, ${c.tasks.length} task groups changed, ${c.unchangedGroups} unchanged`);
    console.log(`  compareRuns on two folded runs: ${verdict(compareMs, COMPARE_TARGET_MS)}`);
    console.log(`  read both files + compare (the CLI's path): ${verdict(t2 - t0, COMPARE_TARGET_MS)} (reading ${(t1 - t0).toFixed(0)} ms)`);

    for (const format of ['perfetto', 'chrome'] as const) {
      const out = join(dir, `out.${format}`);
      const s = performance.now();
      const r = await writeExport(a, format, out);
      const ms = performance.now() - s;
      console.log(`export ${format}: ${r.tracks.toLocaleString('en-US')} tracks, ${r.slices.toLocaleString('en-US')} slices, ${r.flows.toLocaleString('en-US')} flows, ${(r.bytes / 1e6).toFixed(1)} MB: ${verdict(ms, EXPORT_TARGET_MS)}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
