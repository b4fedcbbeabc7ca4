// Reading the source files a trace names. The names come from an untrusted trace: `/dev/zero`,
// a FIFO or a huge file must neither hang nor exhaust the extension host. Only regular files are
// read (checked on the opened descriptor, which is opened non-blocking so a FIFO cannot block the
// open), and only up to a size bound.
import * as fs from 'fs';

/** Largest source file read for annotations and Problems ranges. */
export const MAX_SOURCE_BYTES = 2 * 1024 * 1024;

/** True for an existing regular file (not a device, FIFO, socket or directory). */
export function isRegularFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

/**
 * The text of a regular file of at most `maxBytes`, or undefined (not a regular file, too big,
 * unreadable). Synchronous and bounded: one open, one fstat, at most maxBytes + 1 bytes read.
 */
export function readSourceFile(p: string, maxBytes = MAX_SOURCE_BYTES): string | undefined {
  let fd: number | undefined;
  try {
    fd = fs.openSync(p, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
    const st = fs.fstatSync(fd);
    if (!st.isFile() || st.size > maxBytes) return undefined;
    // The size may change under us: never read past the bound, whatever stat said.
    const buf = Buffer.allocUnsafe(maxBytes + 1);
    let n = 0;
    for (;;) {
      const r = fs.readSync(fd, buf, n, buf.length - n, null);
      if (r === 0) break;
      n += r;
      if (n > maxBytes) return undefined;
    }
    return buf.toString('utf8', 0, n);
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) try { fs.closeSync(fd); } catch { /* already gone */ }
  }
}
