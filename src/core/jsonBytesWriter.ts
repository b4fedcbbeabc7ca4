// Writes JSON text straight into UTF-8 bytes: a big export is a few million events made of the same
// few pieces (a track's "pid"/"tid", a name, an arguments object) around a few numbers. Encoding
// each piece once and copying its bytes, and writing integers digit by digit, avoids building and
// then re-encoding ~340 MB of strings (string building was ~80 % of a 1M-event Chrome export).

import { ByteBuffer } from './byteBuffer';

export class JsonBytesWriter extends ByteBuffer {

  /** Text encoded once by `encode` (a piece written many times). */
  bytes(b: Uint8Array): void {
    const n = b.length;
    this.ensure(n);
    const buf = this.buf;
    let p = this.pos;
    // Most pieces are short: a loop beats `set`'s call overhead there.
    if (n < 32) for (let i = 0; i < n; i++) buf[p++] = b[i];
    else { buf.set(b, p); p += n; }
    this.pos = p;
  }

  /** Any text, encoded as it is written (JSON escaping is the caller's: pass JSON text). */
  text(s: string): void {
    this.ensure(s.length * 3);
    this.pos += this.encoder.encodeInto(s, this.buf.subarray(this.pos)).written;
  }

  /** A number as JSON writes it; non-negative safe integers digit by digit. */
  num(v: number): void {
    if (!(v >= 0 && v <= 0xffffffff && Math.floor(v) === v)) { this.text(JSON.stringify(v)); return; }
    this.ensure(10);
    const buf = this.buf;
    if (v < 10) { buf[this.pos++] = 48 + v; return; }
    let digits = 0;
    for (let x = v; x >= 1; x = Math.floor(x / 10)) digits++;
    let p = this.pos + digits;
    this.pos = p;
    while (v >= 10) {
      const q = Math.floor(v / 10);
      buf[--p] = 48 + (v - q * 10);
      v = q;
    }
    buf[--p] = 48 + v;
  }

  encode(s: string): Uint8Array { return this.encoder.encode(s); }
}
