// Source annotations benchmark: a synthetic run with 1,000,000 steps (about 76,000 tasks), folded
// by LineAnnotator as a live run delivers it (64 KB chunks, one update per chunk, like the throttled
// refreshes but more often) and at once (a trace file opened after the fact); then one snapshot,
// the hint texts of every annotated line, and the problems.
import { generateTrace } from '../../src/core/syntheticTrace';
import { TraceRun } from '../../src/core/traceModel';
import { LineAnnotator, lineHints } from '../../src/core/lineAnnotations';
import { collectProblems } from '../../src/core/lineProblems';

const STEPS = 1_000_000;
const CHUNK = 64 * 1024;

function ms(t0: number): string { return `${(performance.now() - t0).toFixed(1)} ms`; }

export async function run(): Promise<void> {
  const bytes = Buffer.from([...generateTrace({ tasks: STEPS / 10, stepsPerTask: 10, seed: 2 })].join(''));

  // Once, after the fact.
  const full = new TraceRun('bench', 'bench');
  full.ingest(bytes);
  full.finish();
  let t0 = performance.now();
  const once = new LineAnnotator(full);
  once.update();
  const foldOnce = ms(t0);
  t0 = performance.now();
  const snap = once.snapshot();
  const snapshot = ms(t0);
  t0 = performance.now();
  let lines = 0;
  for (const f of snap.files.values()) for (const info of f.lines.values()) { lineHints(full, info); lines++; }
  const hints = ms(t0);
  t0 = performance.now();
  const problems = collectProblems(full, snap);
  const problemsTime = ms(t0);
  // The hover of the busiest line: per-task breakdown by one pass over the steps.
  let busiest: { file: string; line: number; total: number } | undefined;
  for (const f of snap.files.values()) {
    for (const info of f.lines.values()) {
      if (info.await && (!busiest || info.await.total > busiest.total)) busiest = { file: f.file, line: info.line, total: info.await.total };
    }
  }
  t0 = performance.now();
  const perTask = busiest ? once.tasksAt(busiest.file, busiest.line) : [];
  const hoverTime = ms(t0);
  console.log(`${full.steps.count.toLocaleString('en-US')} steps, ${full.tasks.size.toLocaleString('en-US')} tasks, ${lines} annotated lines, ${problems.length} problems`);
  console.log(`after the fact: fold ${foldOnce}, snapshot ${snapshot}, hints ${hints}, problems ${problemsTime}`);
  console.log(`hover of the busiest await line: ${perTask.length.toLocaleString('en-US')} tasks in ${hoverTime}`);

  // Live: one update per chunk; the cost that matters is the slowest single update.
  const live = new TraceRun('live', 'live', { live: true });
  const annotator = new LineAnnotator(live);
  let worst = 0;
  let total = 0;
  let updates = 0;
  for (let i = 0; i < bytes.length; i += CHUNK) {
    live.ingest(bytes.subarray(i, i + CHUNK));
    const t = performance.now();
    annotator.update();
    const d = performance.now() - t;
    worst = Math.max(worst, d);
    total += d;
    updates++;
  }
  live.finish();
  console.log(`live: ${updates} incremental updates, total ${total.toFixed(1)} ms, slowest ${worst.toFixed(2)} ms`);
  t0 = performance.now();
  annotator.snapshot();
  console.log(`live: final snapshot ${ms(t0)}`);
}
