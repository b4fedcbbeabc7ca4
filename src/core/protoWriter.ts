// A minimal protobuf wire-format writer (varints, fixed64, doubles, strings, nested messages):
// enough to write Perfetto traces without a protobuf library. Nested messages reserve one length
// byte and shift their content when the length needs more (rare: most messages are short).

import { ByteBuffer } from './byteBuffer';

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LEN = 2;

export class ProtoWriter extends ByteBuffer {
  private view64: DataView;

  constructor(capacity = 1 << 16) {
    super(capacity);
    this.view64 = new DataView(this.buf.buffer);
  }

  protected override grown(): void {
    this.view64 = new DataView(this.buf.buffer);
  }

  /** An unsigned integer up to 2^53 as a varint. */
  varint(v: number): void {
    this.ensure(10);
    const b = this.buf;
    let p = this.pos;
    while (v >= 0x80) {
      b[p++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    b[p++] = v;
    this.pos = p;
  }

  private tag(field: number, wire: number): void { this.varint(field * 8 + wire); }

  uint(field: number, v: number): void { this.tag(field, WIRE_VARINT); this.varint(v); }

  /** A signed int64 (two's complement: negative values take ten bytes). */
  int(field: number, v: number): void {
    if (v >= 0) { this.uint(field, v); return; }
    this.tag(field, WIRE_VARINT);
    let big = BigInt.asUintN(64, BigInt(Math.trunc(v)));
    this.ensure(10);
    while (big >= 0x80n) { this.buf[this.pos++] = Number(big & 0x7fn) | 0x80; big >>= 7n; }
    this.buf[this.pos++] = Number(big);
  }

  fixed64(field: number, v: number): void {
    this.tag(field, WIRE_FIXED64);
    this.ensure(8);
    this.view64.setUint32(this.pos, v % 0x100000000, true);
    this.view64.setUint32(this.pos + 4, Math.floor(v / 0x100000000), true);
    this.pos += 8;
  }

  double(field: number, v: number): void {
    this.tag(field, WIRE_FIXED64);
    this.ensure(8);
    this.view64.setFloat64(this.pos, v, true);
    this.pos += 8;
  }

  string(field: number, s: string): void {
    this.tag(field, WIRE_LEN);
    this.ensure(s.length * 3 + 5);
    const start = this.pos;
    this.pos += 1;
    const { written } = this.encoder.encodeInto(s, this.buf.subarray(this.pos));
    this.pos += written;
    this.finishLength(start);
  }

  /** Bytes already in wire format (fields encoded earlier by another writer). */
  raw(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  /** Starts a nested message; returns the mark to pass to `end`. */
  begin(field: number): number {
    this.tag(field, WIRE_LEN);
    this.ensure(1);
    return this.pos++;
  }

  end(mark: number): void { this.finishLength(mark); }

  private finishLength(mark: number): void {
    const len = this.pos - mark - 1;
    if (len < 0x80) { this.buf[mark] = len; return; }
    let extra = 0;
    for (let v = len; v >= 0x80; v = Math.floor(v / 0x80)) extra++;
    this.ensure(extra);
    this.buf.copyWithin(mark + 1 + extra, mark + 1, this.pos);
    this.pos += extra;
    let v = len;
    let p = mark;
    while (v >= 0x80) { this.buf[p++] = (v % 0x80) | 0x80; v = Math.floor(v / 0x80); }
    this.buf[p] = v;
  }
}
