// Insights benchmark: the analyses of `async-trace report` (stuck tasks, critical path, blocking
// steps with blame, per-site wait distributions, timeouts) over a 1,000,000-event trace, against
// the time to load that trace (parse + fold) measured in the same run. Target: analyses add at
// most 30 % to the load time. Also measured: what the timeline adds when it opens the run (its
// event-loop lag lanes with blame, the critical path overlay), against the same load time.
import { availableParallelism, loadavg } from 'node:os';
import { criticalPath } from '../../src/core/criticalPath';
import { pathOverlay } from '../../src/core/criticalPathOverlay';
import { lagLaneEntries } from '../../src/core/loopLagOverlay';
import { runReport } from '../../src/core/runReport';
import { plainLocalize } from '../../src/core/taskTreeModel';
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
  const lagMs: number[] = [];
  const pathMs: number[] = [];
  let lagSummary = '';
  let summary = '';
  for (let r = 0; r < REPEATS; r++) {
    const t0 = performance.now();
    const model = new TraceRun('bench', 'bench');
    for (let i = 0; i < bytes.length; i += CHUNK) model.ingest(bytes.subarray(i, i + CHUNK));
    model.finish();
    const t1 = performance.now();
    const report = runReport(model);
    const t2 = performance.now();
    const lanes = lagLaneEntries(model, plainLocalize);
    const t25 = performance.now();
    const cp = criticalPath(model);
    const overlay = cp && pathOverlay(model, cp, plainLocalize);
    const t3 = performance.now();
    loads.push(t1 - t0);
    analyses.push(t2 - t1);
    lagMs.push(t25 - t2);
    pathMs.push(t3 - t25);
    lagSummary = `${lanes.length} lag lanes, ${lanes.reduce((n, l) => n + l.ts.byteLength / 8, 0)} lag samples, ${lanes.reduce((n, l) => n + l.blocks.length, 0)} blocking steps; path overlay of ${(overlay?.segments.length ?? 0) / 5} segments`;
    summary = `${report.stuck.length} stuck, ${report.blocking.length} blocking steps, ${report.sites.length} await sites, critical path of ${report.critical?.stages.length ?? 0} stages`;
  }
  const load = Math.min(...loads);
  const analysis = Math.min(...analyses);
  const ratio = analysis / load;
  console.log(`found: ${summary}`);
  console.log(`load ms: ${loads.map((x) => x.toFixed(0)).join(', ')} (best ${load.toFixed(0)}); analyses ms: ${analyses.map((x) => x.toFixed(0)).join(', ')} (best ${analysis.toFixed(0)})`);
  console.log(`  analyses / load = ${(ratio * 100).toFixed(1)} % (target <= ${TARGET_RATIO * 100} %): ${ratio <= TARGET_RATIO ? 'PASS' : 'FAIL'}`);
  const lag = Math.min(...lagMs);
  const path = Math.min(...pathMs);
  console.log(`timeline: ${lagSummary}`);
  console.log(`  lag lanes (on opening) ms: ${lagMs.map((x) => x.toFixed(0)).join(', ')} (best ${lag.toFixed(0)} = ${((lag / load) * 100).toFixed(1)} % of the load); `
    + `critical path overlay (on request) ms: ${pathMs.map((x) => x.toFixed(0)).join(', ')} (best ${path.toFixed(0)})`);
}
