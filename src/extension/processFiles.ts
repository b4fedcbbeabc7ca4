// The files of a traced run's child processes: with `-o TRACE`, each Python child of the program
// writes its own stream to TRACE.processes/PID.jsonl (docs/trace-format.md, Processes). Opening
// or saving a trace takes them along. Names are checked (digits only) and only regular files read.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { TraceRun } from '../core/traceModel';

const CHUNK = 1 << 20;
const CHILD_FILE = /^\d{1,10}(-\d{1,3})?\.jsonl$/;
/** Child files read at most per trace. */
const MAX_CHILD_FILES = 2048;

export function companionDir(tracePath: string): string {
  return `${tracePath}.processes`;
}

/** The child process files beside a trace, in a stable order (none: an empty list). */
export async function childTraceFiles(tracePath: string): Promise<string[]> {
  const dir = companionDir(tracePath);
  let names: string[];
  try {
    names = await fs.promises.readdir(dir);
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const n of names.filter((x) => CHILD_FILE.test(x)).sort((a, b) => parseInt(a, 10) - parseInt(b, 10) || a.localeCompare(b))) {
    const p = path.join(dir, n);
    try {
      const st = await fs.promises.lstat(p);
      if (st.isFile()) out.push(p);
    } catch { /* gone */ }
    if (out.length >= MAX_CHILD_FILES) break;
  }
  return out;
}

/** Folds every child process file of a trace into its run (after the main file). */
export async function loadChildTraces(run: TraceRun, tracePath: string, cancelled: () => boolean): Promise<number> {
  const files = await childTraceFiles(tracePath);
  for (const file of files) {
    if (cancelled()) break;
    const key = path.basename(file);
    const stream = fs.createReadStream(file, { highWaterMark: CHUNK });
    try {
      for await (const chunk of stream) {
        if (cancelled()) break;
        run.ingestProcess(key, chunk as Buffer);
      }
    } catch {
      // Unreadable: what was read stays.
    } finally {
      stream.destroy();
    }
    run.finishProcess(key);
  }
  return files.length;
}

/** Copies the child process files of `source` beside `target` (saving a trace). */
export async function copyChildTraces(source: string, target: string): Promise<void> {
  const files = await childTraceFiles(source);
  if (files.length === 0) return;
  const dir = companionDir(target);
  await fs.promises.mkdir(dir, { recursive: true });
  for (const f of files) await fs.promises.copyFile(f, path.join(dir, path.basename(f)));
}
