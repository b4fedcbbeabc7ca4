// Insights benchmark: the analyses of `async-trace report` (stuck tasks, critical path, blocking
// steps with blame, per-site wait distributions, timeouts) over a 1,000,000-event trace, against
// the time to load that trace (parse + fold) measured in the same run. Target: analyses add at
// most 30 % to the load time.
import { availableParallelism, loadavg } from 'node:os';
import { runReport } from '../../src/core/runReport';
import { generateTrace } from '../../src/core/syntheticTrace';
import { TraceRun } from '../../src/core/traceModel';

const TARGET_EVENTS = 1_000_000;
const CHUNK = 64 * 1024;
const REPEATS = 3;
const TARGET_RATIO = 0.3;

export async function run(): Promise<void> {
  const parts: string[] = [];
  for (const line of generateTrace({ tasks: Math.round(TARGET_EVENTS / 13.15), stepsPerTask: 10, seed: 1 })) parts.push(line);
  const bytes = Buffer.from(parts.join(''));
  console.log(`machine: ${availableParallelism()} CPUs, load average ${loadavg().map((l) => l.toFixed(1)).join(' / ')}`);
  console.log(`trace: ${parts.length.toLocaleString('en-US')} events`);
  const loads: number[] = [];
  const analyses: number[] = [];
  let summary = '';
  for (let r = 0; r < REPEATS; r++) {
    const t0 = performance.now();
    const model = new TraceRun('bench', 'bench');
    for (let i = 0; i < bytes.length; i += CHUNK) model.ingest(bytes.subarray(i, i + CHUNK));
    model.finish();
    const t1 = performance.now();
    const report = runReport(model);
    const t2 = performance.now();
    loads.push(t1 - t0);
    analyses.push(t2 - t1);
    summary = `${report.stuck.length} stuck, ${report.blocking.length} blocking steps, ${report.sites.length} await sites, critical path of ${report.critical?.stages.length ?? 0} stages`;
  }
  const load = Math.min(...loads);
  const analysis = Math.min(...analyses);
  const ratio = analysis / load;
  console.log(`found: ${summary}`);
  console.log(`load ms: ${loads.map((x) => x.toFixed(0)).join(', ')} (best ${load.toFixed(0)}); analyses ms: ${analyses.map((x) => x.toFixed(0)).join(', ')} (best ${analysis.toFixed(0)})`);
  console.log(`  analyses / load = ${(ratio * 100).toFixed(1)} % (target <= ${TARGET_RATIO * 100} %): ${ratio <= TARGET_RATIO ? 'PASS' : 'FAIL'}`);
}
