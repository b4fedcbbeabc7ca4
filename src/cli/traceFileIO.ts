// Node-only helpers shared by the CLI and the extension: load a .jsonl trace into a run (streamed
// in chunks) and write a run's export (Perfetto: gzip-compressed protobuf; Chrome: JSON).
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { chromeTraceChunks, perfettoTraceChunks, type ExportFormat } from '../core/exportFormats';
import type { ExportCounts } from '../core/exportWalk';
import type { TraceRunView } from '../core/modelTypes';
import { TraceRun } from '../core/traceModel';

const CHUNK = 1 << 20;

/** Reads a trace file into a finished run. Throws when the file cannot be read. */
export function loadTraceFileSync(file: string, key = file): TraceRun {
  const run = new TraceRun(key, path.basename(file), { sourcePath: file });
  const fd = fs.openSync(file, 'r');
  try {
    if (!fs.fstatSync(fd).isFile()) throw new Error(`${file} is not a regular file`);
    const buf = Buffer.allocUnsafe(CHUNK);
    for (;;) {
      const n = fs.readSync(fd, buf, 0, CHUNK, null);
      if (n <= 0) break;
      run.ingest(buf.subarray(0, n));
    }
  } finally {
    fs.closeSync(fd);
  }
  run.finish();
  return run;
}

/** The usual file name ending of a format. */
export function exportExtension(format: ExportFormat): string {
  return format === 'perfetto' ? '.perfetto-trace.gz' : '.chrome-trace.json';
}

/** Writes a run as the given format to `file` (written whole to a temporary file, then renamed). */
export async function writeExport(run: TraceRunView, format: ExportFormat, file: string): Promise<ExportCounts & { bytes: number }> {
  const counts: ExportCounts = { tracks: 0, slices: 0, flows: 0, instants: 0 };
  const tmp = `${file}.${process.pid}.tmp`;
  const out = fs.createWriteStream(tmp);
  const done = new Promise<void>((resolve, reject) => { out.on('finish', resolve); out.on('error', reject); });
  try {
    if (format === 'perfetto') {
      // Level 1: most of the size gain of gzip for a fraction of its time on a big run.
      const gz = zlib.createGzip({ level: 1 });
      gz.pipe(out);
      for (const chunk of perfettoTraceChunks(run, counts)) if (!gz.write(chunk)) await once(gz, 'drain');
      gz.end();
    } else {
      for (const chunk of chromeTraceChunks(run, counts)) if (!out.write(chunk)) await once(out, 'drain');
      out.end();
    }
    await done;
    await fs.promises.rename(tmp, file);
  } catch (err) {
    out.destroy();
    await fs.promises.rm(tmp, { force: true });
    throw err;
  }
  return { ...counts, bytes: fs.statSync(file).size };
}

function once(emitter: NodeJS.EventEmitter, event: string): Promise<void> {
  return new Promise((resolve) => emitter.once(event, () => resolve()));
}
