// Core benchmark: parse + fold 1,000,000 synthetic events fed as 64 KB byte chunks (as a file or a
// live pipe delivers them), then the memory the folded model holds after GC.
// Targets: < 1.5 s parse+fold, < 300 MB held.
import { availableParallelism, loadavg } from 'node:os';
import { generateTrace } from '../../src/core/syntheticTrace';
import { TraceRun } from '../../src/core/traceModel';

const TARGET_EVENTS = 1_000_000;
const CHUNK = 64 * 1024;
const TIME_TARGET_MS = 1500;
const MEMORY_TARGET_MB = 300;
const REPEATS = 5;

const gc = (): void => {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) { g(); g(); }
};
const mb = (n: number) => (n / (1024 * 1024)).toFixed(1);
/** JS heap plus typed-array backing stores (the step columns live there). */
const held = () => { const m = process.memoryUsage(); return m.heapUsed + m.arrayBuffers; };

/** The synthetic trace as one Buffer holding about TARGET_EVENTS lines. */
function makeTrace(): { bytes: Buffer; events: number } {
  // 10 steps per task plus its task/end lines and the odd timeout/cancel/name/site: ~13 events a task.
  const parts: string[] = [];
  let events = 0;
  for (const line of generateTrace({ tasks: Math.round(TARGET_EVENTS / 13.15), stepsPerTask: 10, seed: 1 })) {
    parts.push(line);
    events++;
  }
  return { bytes: Buffer.from(parts.join('')), events };
}

function foldAll(bytes: Buffer): TraceRun {
  const run = new TraceRun('bench', 'bench');
  let deltas = 0;
  run.onDelta(() => { deltas++; });
  for (let i = 0; i < bytes.length; i += CHUNK) run.ingest(bytes.subarray(i, i + CHUNK));
  run.finish();
  if (deltas === 0) throw new Error('no delta');
  return run;
}

export async function run(): Promise<void> {
  if (!(globalThis as { gc?: unknown }).gc) console.log('(run with --expose-gc for memory figures: npm run bench core)');
  gc();
  const base = held();
  let { bytes, events } = makeTrace();
  // Times depend on what else runs: say so next to them.
  console.log(`machine: ${availableParallelism()} CPUs, load average ${loadavg().map((l) => l.toFixed(1)).join(' / ')}`);
  console.log(`trace: ${events.toLocaleString('en-US')} events, ${mb(bytes.length)} MB, ${Math.ceil(bytes.length / CHUNK)} chunks of 64 KB`);

  const walls: number[] = [];
  const cpus: number[] = [];
  let model: TraceRun | undefined;
  for (let r = 0; r < REPEATS; r++) {
    model = undefined;
    gc();
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    model = foldAll(bytes);
    walls.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpus.push((c.user + c.system) / 1000);
  }
  const m = model!;
  console.log(`folded: ${m.counts.tasks.toLocaleString('en-US')} tasks, ${m.steps.count.toLocaleString('en-US')} steps, ${m.awaitCount.toLocaleString('en-US')} await entries, ${m.counts.events.toLocaleString('en-US')} events, issues: ${m.issues.badLines} bad lines`);
  if (m.counts.events !== events || m.issues.badLines !== 0) throw new Error('fold lost events');

  const best = Math.min(...walls);
  const sorted = [...walls].sort((a, b) => a - b);
  // CPU time (all threads, GC helpers included) is the steadier figure when other work shares the cores.
  console.log(`parse+fold wall ms: ${walls.map((w) => w.toFixed(0)).join(', ')} (best ${best.toFixed(0)}, median ${sorted[sorted.length >> 1].toFixed(0)}); cpu ms: ${cpus.map((c) => c.toFixed(0)).join(', ')} (best ${Math.min(...cpus).toFixed(0)})`);
  console.log(`  ${(events / (best / 1000) / 1e6).toFixed(2)} M events/s, ${(bytes.length / (best / 1000) / 1e6).toFixed(0)} MB/s`);
  console.log(`  target < ${TIME_TARGET_MS} ms: ${best < TIME_TARGET_MS ? 'PASS' : 'FAIL'}`);

  // Memory held by the model alone: drop the input, collect, compare with the baseline.
  bytes = Buffer.alloc(0);
  gc();
  const heldBytes = held() - base;
  const mu = process.memoryUsage();
  console.log(`held after GC: ${mb(heldBytes)} MB (heap ${mb(mu.heapUsed)} MB + array buffers ${mb(mu.arrayBuffers)} MB, baseline ${mb(base)} MB); rss ${mb(mu.rss)} MB`);
  console.log(`  target < ${MEMORY_TARGET_MB} MB: ${heldBytes < MEMORY_TARGET_MB * 1024 * 1024 ? 'PASS' : 'FAIL'}`);
  if (m.counts.tasks === 0) throw new Error('unreachable'); // keeps the model alive until measured
  model = undefined;
  await runLateDeclarations();
}

/**
 * 200,000 tasks whose `task` lines come after their steps (a trace written out of order): loads in
 * about the time of the usual order, not quadratically (it took 33 s when each declaration spliced
 * the task out of the roots). Printed as the ratio of the two orders measured in this run.
 */
export async function runLateDeclarations(): Promise<void> {
  const n = 200_000;
  const head = '{"type":"run","v":1,"pid":1,"python":"3.12","argv":["p.py"],"cwd":"/","started":"2026-01-01T00:00:00Z"}\n';
  const task = (i: number) => `{"type":"task","id":${i},"ts":${i},"kind":"asyncio","name":"T${i}","coro":"c","parent":${i === 1 ? 'null' : 1},"site":null}\n`;
  const step = (i: number) => `{"type":"step","task":${i},"ts":${i},"dur":1}\n`;
  const usual: string[] = [head];
  const late: string[] = [head];
  for (let i = 1; i <= n; i++) usual.push(task(i), step(i));
  for (let i = 1; i <= n; i++) late.push(step(i));
  for (let i = 1; i <= n; i++) late.push(task(i));
  const time = (text: Buffer): number => {
    const t0 = performance.now();
    const r = new TraceRun('late', 'late');
    for (let i = 0; i < text.length; i += CHUNK) r.ingest(text.subarray(i, i + CHUNK));
    r.finish();
    if (r.roots.length !== 1 || r.counts.tasks !== n) throw new Error('late declarations folded wrong');
    return performance.now() - t0;
  };
  const a = Buffer.from(usual.join('')), b = Buffer.from(late.join(''));
  const tu = Math.min(time(a), time(a)), tl = Math.min(time(b), time(b));
  console.log(`${n.toLocaleString('en-US')} tasks declared after their steps: ${tl.toFixed(0)} ms vs ${tu.toFixed(0)} ms in the usual order (${(tl / tu).toFixed(2)}x; target < 3x: ${tl / tu < 3 ? 'PASS' : 'FAIL'})`);
}
