// The recorded traces of the insights tests (test/unit/fixtures/insights/*.jsonl, from the real
// programs beside them, run with `python3 -m asynctrace -o NAME.jsonl NAME.py` on Debian's
// Python 3.11; paths made neutral), loaded as the extension loads a file.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TraceRun } from '../../src/core/traceModel';

export const fixture = (name: string) => join(__dirname, 'fixtures', 'insights', name);

export function load(name: string): TraceRun {
  const run = new TraceRun(name, name);
  run.ingest(readFileSync(fixture(`${name}.jsonl`), 'utf8'));
  run.finish();
  return run;
}

/** Id of the task with that name. */
export const byName = (run: TraceRun, name: string) => [...run.tasks.values()].find((x) => x.name === name)!.id;
