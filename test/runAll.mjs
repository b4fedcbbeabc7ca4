// `npm test`: every stage runs, even when an earlier one failed, and a summary at the end says
// what each stage did (counts and time). Exits non-zero when any stage failed.
//
//   npm test                    system packages, typecheck, build, unit, runtime, e2e
//   npm test -- --skip e2e      leave stages out (comma-separated names)
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureSystemPackages } from '../scripts/systemPackages.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const skipArg = process.argv.indexOf('--skip');
const skip = new Set(skipArg >= 0 ? (process.argv[skipArg + 1] ?? '').split(',') : []);

/** Counts read off a stage's output; each returns a short text or undefined. */
function nodeTestCounts(out) {
  const n = (k) => {
    const m = [...out.matchAll(new RegExp(`^(?:#|\\u2139) ${k} (\\d+)$`, 'gm'))];
    return m.length ? m.reduce((a, x) => a + Number(x[1]), 0) : undefined;
  };
  const tests = n('tests');
  if (tests === undefined) return undefined;
  const parts = [`${tests} tests`, `${n('pass') ?? 0} passed`, `${n('fail') ?? 0} failed`];
  const skipped = n('skipped');
  if (skipped) parts.push(`${skipped} skipped`);
  return parts.join(', ');
}
function runtimeCounts(out) {
  const ran = [...out.matchAll(/^Ran (\d+) tests? in/gm)].reduce((a, m) => a + Number(m[1]), 0);
  const pythons = new Set([...out.matchAll(/^== (\d+\.\d+\.\d+) \(([^,)]+)/gm)].map((m) => m[2])).size;
  const failedUnder = /^FAILED under: (.*)$/m.exec(out)?.[1];
  let text = `${ran} tests over ${pythons} Python interpreter(s)`;
  if (failedUnder) text += `; failed under ${failedUnder}`;
  return text;
}
function typecheckCounts(out) {
  const errors = (out.match(/error TS\d+/g) ?? []).length;
  return errors ? `${errors} type error(s)` : 'no type errors';
}

const STAGES = [
  { name: 'typecheck', cmd: [npm, 'run', 'typecheck'], counts: typecheckCounts },
  { name: 'build', cmd: [npm, 'run', 'build'] },
  { name: 'unit', cmd: [npm, 'run', 'test:unit'], counts: nodeTestCounts },
  { name: 'runtime', cmd: [npm, 'run', 'test:runtime'], counts: runtimeCounts },
  // The build stage already built dist/; a failed build still lets e2e try (and say why).
  { name: 'e2e', cmd: [npm, 'run', 'test:e2e'], counts: nodeTestCounts },
];

function runStage(stage) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    let out = '';
    const child = spawn(stage.cmd[0], stage.cmd.slice(1), { cwd: ROOT, stdio: ['inherit', 'pipe', 'pipe'] });
    const keep = (chunk, to) => {
      to.write(chunk);
      out += chunk.toString('utf8');
      if (out.length > 8e6) out = out.slice(-4e6); // counts are near the end
    };
    child.stdout.on('data', (c) => keep(c, process.stdout));
    child.stderr.on('data', (c) => keep(c, process.stderr));
    child.on('error', (e) => resolve({ ok: false, secs: 0, detail: e.message }));
    child.on('close', (code, signal) =>
      resolve({
        ok: code === 0,
        secs: (Date.now() - t0) / 1000,
        detail: stage.counts?.(out) ?? '',
        exit: code ?? signal,
      }),
    );
  });
}

const results = [];
const tAll = Date.now();
try {
  ensureSystemPackages('test');
  results.push({ name: 'system packages', ok: true, secs: (Date.now() - tAll) / 1000, detail: 'present' });
} catch (e) {
  console.error(`[test] ${e.message}`);
  // Without the packages most stages cannot run: say so and stop with the setup's exit code.
  process.exit(e.exitCode ?? 1);
}
for (const stage of STAGES) {
  if (skip.has(stage.name)) {
    results.push({ name: stage.name, skipped: true });
    continue;
  }
  console.log(`\n=== npm test: ${stage.name}`);
  results.push({ name: stage.name, ...(await runStage(stage)) });
}

const fmt = (s) => (s >= 60 ? `${Math.floor(s / 60)} min ${Math.round(s % 60)} s` : `${s.toFixed(1)} s`);
console.log('\n=== npm test summary');
for (const r of results) {
  const status = r.skipped ? 'skipped' : r.ok ? 'ok' : `FAILED (exit ${r.exit ?? '?'})`;
  console.log(`${r.name.padEnd(16)} ${status.padEnd(16)} ${r.skipped ? '' : fmt(r.secs).padEnd(12)} ${r.detail ?? ''}`.trimEnd());
}
const failed = results.filter((r) => !r.skipped && !r.ok).map((r) => r.name);
console.log(failed.length ? `FAILED: ${failed.join(', ')} (${fmt((Date.now() - tAll) / 1000)} in all)` : `all green in ${fmt((Date.now() - tAll) / 1000)}`);
process.exit(failed.length ? 1 : 0);
