// A growable byte buffer, the ground both export writers stand on (JSON text: jsonBytesWriter.ts,
// protobuf: protoWriter.ts): they write straight into bytes and hand out what they wrote in chunks.

export class ByteBuffer {
  buf: Uint8Array;
  pos = 0;
  protected readonly encoder = new TextEncoder();

  constructor(capacity = 1 << 16) {
    this.buf = new Uint8Array(capacity);
  }

  /** Makes room for `n` more bytes (doubling, so a big export grows it a few times only). */
  protected ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.pos + n) cap *= 2;
    const b = new Uint8Array(cap);
    b.set(this.buf.subarray(0, this.pos));
    this.buf = b;
    this.grown();
  }

  /** Called once `buf` is a new, bigger array (a writer holding a view of it renews the view). */
  protected grown(): void {}

  /** Hands out what was written and starts over (the buffer is reused: the result is a copy). */
  take(): Uint8Array {
    const out = this.buf.slice(0, this.pos);
    this.pos = 0;
    return out;
  }
}
