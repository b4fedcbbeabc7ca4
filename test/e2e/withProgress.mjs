// Runs a long install command and prints, every 15 s, how long it has run and how much it has
// written so far, so a first `npm start` on a slow network never looks stuck.
//
//   node withProgress.mjs DIR LABEL COMMAND ARGS...
import { spawn } from 'node:child_process';
import { readdirSync, lstatSync } from 'node:fs';
import path from 'node:path';

const [dir, label, cmd, ...args] = process.argv.slice(2);

function sizeOf(p) {
  let total = 0;
  const stack = [p];
  while (stack.length) {
    const q = stack.pop();
    let st;
    try {
      st = lstatSync(q);
    } catch {
      continue;
    }
    if (st.isDirectory()) {
      try {
        for (const e of readdirSync(q)) stack.push(path.join(q, e));
      } catch {
        /* unreadable: skip */
      }
    } else total += st.size;
  }
  return total;
}

const t0 = Date.now();
const elapsed = () => {
  const s = Math.round((Date.now() - t0) / 1000);
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
};
const timer = setInterval(() => {
  console.log(`[e2e setup] ${label}: ${elapsed()} elapsed, ${Math.round(sizeOf(dir) / 1e6)} MB on disk so far`);
}, 15000);
const child = spawn(cmd, args, { stdio: 'inherit' });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => {
  clearInterval(timer);
  console.log(`[e2e setup] ${label}: ${code === 0 ? 'done' : 'failed'} after ${elapsed()} (${Math.round(sizeOf(dir) / 1e6)} MB)`);
  process.exit(code ?? 1);
});
child.on('error', (e) => {
  clearInterval(timer);
  console.error(`[e2e setup] ${label}: ${e.message}`);
  process.exit(1);
});
