// `async-trace <command>`: the trace tools without VS Code (the package's bin, built into
// dist/cli.js). Commands: `compare A.jsonl B.jsonl [--json] [--fail-if-slower 10%]` (a CI gate:
// exit 1 when B's wall time is slower than A's by more than the threshold) and
// `export --format perfetto|chrome TRACE.jsonl [-o OUT]`, `report TRACE.jsonl [--json] [--fail-on ...]`
// (why a run was slow or stuck; a CI gate with --fail-on). Exit 2: bad usage or unreadable input.
import * as path from 'node:path';
import { comparisonLines } from '../core/compareText';
import type { ExportFormat } from '../core/exportFormats';
import { compareRuns, parseThreshold, percentText } from '../core/runCompare';
import { failReasons, parseFailOn, reportLines, runReport } from '../core/runReport';
import { blockThresholdUs } from '../core/loopBlame';
import type { Localize } from '../core/taskTreeModel';
import { issueLines } from '../core/taskTreeModel';
import { cliLocale, cliLocalize } from './cliLocalize';
import { exportExtension, loadTraceFileSync, writeExport } from './traceFileIO';

export interface CliIo { out: (s: string) => void; err: (s: string) => void; env: NodeJS.ProcessEnv }

class UsageError extends Error {}

function usage(t: Localize): string {
  return [
    t('Usage: async-trace <command> [options]'),
    '',
    t('Commands:'),
    `  compare A.jsonl B.jsonl [--json] [--fail-if-slower 10%]   ${t('compare two runs (A before, B after)')}`,
    `  export --format perfetto|chrome TRACE.jsonl [-o OUT]      ${t('export a run to Perfetto or Chrome trace format')}`,
    `  report TRACE.jsonl [--json] [--fail-on stuck,blocked>100ms,unretrieved]`,
    `                                                            ${t('why a run was slow or stuck: critical path, stuck tasks, blocking steps, slowest awaits')}`,
    `  help                                                      ${t('show this help')}`,
    '',
    t('Options: --locale LANG (e.g. zh-cn) for the language of the output.'),
  ].join('\n');
}

/** Splits argv into positional arguments and --options (with values where the option takes one). */
function parseArgs(argv: string[], withValue: Set<string>, flags: Set<string>, t: Localize): { pos: string[]; opts: Map<string, string> } {
  const pos: string[] = [];
  const opts = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') { pos.push(...argv.slice(i + 1)); break; }
    if (a.startsWith('-') && a !== '-') {
      const eq = a.indexOf('=');
      const name = eq > 0 ? a.slice(0, eq) : a;
      if (withValue.has(name)) {
        const v = eq > 0 ? a.slice(eq + 1) : argv[++i];
        if (v === undefined) throw new UsageError(t('{0} needs a value', name));
        opts.set(name, v);
      } else if (flags.has(name)) opts.set(name, '');
      else throw new UsageError(t('unknown option {0}', a));
    } else pos.push(a);
  }
  return { pos, opts };
}

function load(file: string, t: Localize, io: CliIo) {
  let run;
  try {
    run = loadTraceFileSync(file);
  } catch (err) {
    throw new UsageError(t('Could not read {0}: {1}', file, err instanceof Error ? err.message : String(err)));
  }
  if (run.tasks.size === 0 && run.info === undefined) throw new UsageError(t('{0} holds no Async Trace events.', file));
  const issues = issueLines(run, t);
  if (issues.length) io.err(`${path.basename(file)}: ${issues.join(' ')}`);
  return run;
}

function compare(argv: string[], t: Localize, io: CliIo): number {
  const { pos, opts } = parseArgs(argv, new Set(['--fail-if-slower', '--locale']), new Set(['--json']), t);
  if (pos.length !== 2) throw new UsageError(t('compare needs two trace files: A (before) and B (after)'));
  let threshold: number | undefined;
  if (opts.has('--fail-if-slower')) {
    threshold = parseThreshold(opts.get('--fail-if-slower')!);
    if (threshold === undefined) throw new UsageError(t('--fail-if-slower takes a percentage such as 10%'));
  }
  const c = compareRuns(load(pos[0], t, io), load(pos[1], t, io));
  const failed = threshold !== undefined && c.slower > threshold;
  if (opts.has('--json')) {
    io.out(JSON.stringify({ ...c, slower: Number.isFinite(c.slower) ? c.slower : null, failIfSlower: threshold ?? null, failed }, null, 2));
  } else {
    io.out(comparisonLines(c, t).join('\n'));
  }
  if (threshold !== undefined) {
    const pct = percentText(c.slower + 1);
    if (failed) io.err(t('FAIL: B is slower than A by {0} (threshold {1} %)', pct, Math.round(threshold * 1000) / 10));
    else io.err(t('OK: wall time change {0} is within the threshold ({1} %)', pct || '?', Math.round(threshold * 1000) / 10));
  }
  return failed ? 1 : 0;
}

async function exportCommand(argv: string[], t: Localize, io: CliIo): Promise<number> {
  const { pos, opts } = parseArgs(argv, new Set(['--format', '-o', '--output', '--locale']), new Set(), t);
  const format = opts.get('--format') ?? 'perfetto';
  if (format !== 'perfetto' && format !== 'chrome') throw new UsageError(t('--format is perfetto or chrome, not {0}', format));
  if (pos.length !== 1) throw new UsageError(t('export needs one trace file'));
  const input = pos[0];
  const output = opts.get('-o') ?? opts.get('--output') ?? input.replace(/\.jsonl?$/i, '') + exportExtension(format as ExportFormat);
  if (path.resolve(output) === path.resolve(input)) throw new UsageError(t('the output would overwrite the trace itself'));
  const run = load(input, t, io);
  const r = await writeExport(run, format as ExportFormat, output);
  io.err(t('Wrote {0}: {1} tracks, {2} slices, {3} flows, {4} instants, {5} bytes', output, r.tracks, r.slices, r.flows, r.instants, r.bytes));
  return 0;
}

function report(argv: string[], t: Localize, io: CliIo): number {
  const { pos, opts } = parseArgs(argv, new Set(['--fail-on', '--locale']), new Set(['--json']), t);
  if (pos.length !== 1) throw new UsageError(t('report needs one trace file'));
  const conditions = opts.has('--fail-on') ? parseFailOn(opts.get('--fail-on')!) : [];
  if (conditions === undefined) throw new UsageError(t('--fail-on takes a list such as stuck,blocked>100ms,unretrieved'));
  const run = load(pos[0], t, io);
  let minBlock = blockThresholdUs(run);
  for (const c of conditions) if (c.kind === 'blocked') minBlock = Math.min(minBlock, c.overUs + 1);
  const r = runReport(run, minBlock);
  const reasons = failReasons(run, r, conditions, t);
  if (opts.has('--json')) {
    const sites = Object.fromEntries([...run.sites].filter(([id]) => referenced(r, id)).map(([id, s]) => [id, { file: s.file, line: s.line, func: s.func }]));
    const tasks = Object.fromEntries([...run.tasks.values()].map((x) => [x.id, { name: x.name, coro: x.coro, state: x.endState ?? x.status }]));
    io.out(JSON.stringify({ ...r, sites: r.sites.slice(0, 50), siteInfo: sites, taskInfo: tasks, gate: { failOn: opts.get('--fail-on') ?? null, failed: reasons.length > 0, reasons } }, null, 2));
  } else {
    io.out(reportLines(run, r, t).join('\n'));
  }
  if (conditions.length > 0) {
    if (reasons.length > 0) {
      io.err(t('FAIL: {0} problems match --fail-on {1}', reasons.length, opts.get('--fail-on')!));
      for (const line of reasons) io.err(`  ${line}`);
    } else io.err(t('OK: nothing matches --fail-on {0}', opts.get('--fail-on')!));
  }
  return reasons.length > 0 ? 1 : 0;
}

/** Whether the report mentions site `id` (the JSON lists only those sites). */
function referenced(r: ReturnType<typeof runReport>, id: number): boolean {
  return JSON.stringify([r.critical, r.stuck, r.blocking, r.sites.slice(0, 50), r.timeouts]).includes(`"site":${id}`);
}

/** Runs the CLI; returns the exit code. */
export async function main(argv: string[], io: CliIo): Promise<number> {
  const li = argv.findIndex((a) => a === '--locale' || a.startsWith('--locale='));
  const flag = li < 0 ? undefined : argv[li].includes('=') ? argv[li].split('=')[1] : argv[li + 1];
  const t = cliLocalize(cliLocale(io.env, flag));
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'compare': return compare(rest, t, io);
      case 'export': return await exportCommand(rest, t, io);
      case 'report': return report(rest, t, io);
      case undefined: case 'help': case '--help': case '-h': io.out(usage(t)); return command === undefined ? 2 : 0;
      default: throw new UsageError(t('unknown command {0}', command));
    }
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`async-trace: ${err.message}`);
      io.err(usage(t));
      return 2;
    }
    io.err(`async-trace: ${err instanceof Error ? err.message : String(err)}`);
    return 2;
  }
}

if (require.main === module) {
  main(process.argv.slice(2), {
    out: (s) => { process.stdout.write(`${s}\n`); },
    err: (s) => { process.stderr.write(`${s}\n`); },
    env: process.env,
  }).then((code) => { process.exitCode = code; }, (err) => { console.error(err); process.exitCode = 2; });
}
