// Checkers for exported files (used by traceExport.test.ts and the e2e test of Save As...): exported files checked by the formats' own rules, with a real parser: JSON.parse plus the Trace
// Event Format's rules for Chrome JSON (B/E balanced per thread, X slices nested per thread, flow
// s/f pairs with unique ids, each bound to a slice); for Perfetto, a protobuf decoder driven by a
// schema whose field names, numbers and types are those of Perfetto's published .proto files
// (protos/perfetto/trace/trace.proto, trace_packet.proto, track_event/track_event.proto,
// track_descriptor.proto, process_descriptor.proto, thread_descriptor.proto, debug_annotation.proto)
// and the TrackEvent rules (every track declared once with a known parent, BEGIN/END balanced per
// track in time order, flow ids started once and terminated once, the start first).
import assert from 'node:assert/strict';

export interface ChromeEvent { ph: string; pid: number; tid: number; ts: number; dur?: number; id?: number; name?: string; bp?: string; args?: Record<string, unknown> }

export function checkChrome(events: ChromeEvent[]): { flows: number; slices: number } {
  const byThread = new Map<string, ChromeEvent[]>();
  const names = new Map<string, string>();
  for (const e of events) {
    assert.ok(typeof e.ph === 'string' && Number.isInteger(e.pid) && Number.isInteger(e.tid), JSON.stringify(e));
    if (e.ph === 'M') {
      if (e.name === 'thread_name') {
        const k = `${e.pid}/${e.tid}`;
        assert.ok(!names.has(k), `thread ${k} named twice`);
        names.set(k, String(e.args?.name));
      }
      continue;
    }
    assert.ok(Number.isFinite(e.ts) && e.ts >= 0, `ts of ${JSON.stringify(e)}`);
    const k = `${e.pid}/${e.tid}`;
    (byThread.get(k) ?? byThread.set(k, []).get(k)!).push(e);
  }
  let slices = 0;
  const flowStart = new Map<number, ChromeEvent>();
  const flowEnd = new Map<number, ChromeEvent>();
  for (const [k, evs] of byThread) {
    assert.ok(names.has(k), `events on unnamed thread ${k}`);
    // Intervals from X and B/E (B/E balanced: a stack per thread, in the file's order).
    const intervals: Array<{ s: number; e: number }> = [];
    const open: ChromeEvent[] = [];
    for (const e of evs) {
      if (e.ph === 'B') open.push(e);
      else if (e.ph === 'E') { const b = open.pop(); assert.ok(b, `E without B on ${k}`); assert.ok(e.ts >= b.ts); intervals.push({ s: b.ts, e: e.ts }); }
      else if (e.ph === 'X') { assert.ok(e.dur! >= 0); intervals.push({ s: e.ts, e: e.ts + e.dur! }); }
    }
    assert.equal(open.length, 0, `unclosed B on ${k}`);
    slices += intervals.length;
    // Nested: sorted by start (longest first), each slice inside or after the previous open ones.
    intervals.sort((a, b) => a.s - b.s || (b.e - b.s) - (a.e - a.s));
    const stack: Array<{ s: number; e: number }> = [];
    for (const iv of intervals) {
      while (stack.length && stack[stack.length - 1].e <= iv.s && !(stack[stack.length - 1].e === iv.s && iv.e === iv.s && stack[stack.length - 1].s === iv.s)) stack.pop();
      if (stack.length) assert.ok(iv.e <= stack[stack.length - 1].e, `slice [${iv.s}, ${iv.e}] overlaps [${stack[stack.length - 1].s}, ${stack[stack.length - 1].e}] on ${k}`);
      stack.push(iv);
    }
    const inSlice = (ts: number) => intervals.some((iv) => iv.s <= ts && ts <= iv.e);
    for (const e of evs) {
      if (e.ph === 's' || e.ph === 'f') {
        assert.ok(inSlice(e.ts), `flow ${e.id} not bound to a slice on ${k}`);
        const m = e.ph === 's' ? flowStart : flowEnd;
        assert.ok(!m.has(e.id!), `flow id ${e.id} ${e.ph} twice`);
        m.set(e.id!, e);
      }
    }
  }
  assert.deepEqual([...flowStart.keys()].sort(), [...flowEnd.keys()].sort(), 'every flow starts and ends once');
  for (const [id, s] of flowStart) assert.ok(s.ts <= flowEnd.get(id)!.ts, `flow ${id} ends before it starts`);
  return { flows: flowStart.size, slices };
}

// --- Perfetto: a schema-driven protobuf decoder --------------------------------------------------
// Field numbers and types as in Perfetto's protos (see the header); only what the export writes,
// plus the fields a decoder must skip.
export type FieldType = 'uint64' | 'uint32' | 'int32' | 'int64' | 'fixed64' | 'double' | 'string' | 'bool' | { message: string };
interface FieldDef { name: string; type: FieldType; repeated?: boolean }
export const SCHEMA: Record<string, Record<number, FieldDef>> = {
  Trace: { 1: { name: 'packet', type: { message: 'TracePacket' }, repeated: true } },
  TracePacket: {
    8: { name: 'timestamp', type: 'uint64' },
    10: { name: 'trusted_packet_sequence_id', type: 'uint32' },
    11: { name: 'track_event', type: { message: 'TrackEvent' } },
    13: { name: 'sequence_flags', type: 'uint32' },
    60: { name: 'track_descriptor', type: { message: 'TrackDescriptor' } },
  },
  TrackDescriptor: {
    1: { name: 'uuid', type: 'uint64' },
    2: { name: 'name', type: 'string' },
    3: { name: 'process', type: { message: 'ProcessDescriptor' } },
    4: { name: 'thread', type: { message: 'ThreadDescriptor' } },
    5: { name: 'parent_uuid', type: 'uint64' },
  },
  ProcessDescriptor: { 1: { name: 'pid', type: 'int32' }, 6: { name: 'process_name', type: 'string' } },
  ThreadDescriptor: { 1: { name: 'pid', type: 'int32' }, 2: { name: 'tid', type: 'int64' }, 5: { name: 'thread_name', type: 'string' } },
  TrackEvent: {
    4: { name: 'debug_annotations', type: { message: 'DebugAnnotation' }, repeated: true },
    9: { name: 'type', type: 'int32' },
    11: { name: 'track_uuid', type: 'uint64' },
    22: { name: 'categories', type: 'string', repeated: true },
    23: { name: 'name', type: 'string' },
    47: { name: 'flow_ids', type: 'fixed64', repeated: true },
    48: { name: 'terminating_flow_ids', type: 'fixed64', repeated: true },
  },
  DebugAnnotation: {
    4: { name: 'int_value', type: 'int64' },
    5: { name: 'double_value', type: 'double' },
    6: { name: 'string_value', type: 'string' },
    10: { name: 'name', type: 'string' },
  },
};
const WIRE: Record<string, number> = { uint64: 0, uint32: 0, int32: 0, int64: 0, bool: 0, fixed64: 1, double: 1, string: 2 };

export type Msg = Record<string, unknown>;

export function decode(type: string, buf: Uint8Array, start = 0, end = buf.length): Msg {
  const schema = SCHEMA[type];
  const out: Msg = {};
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let p = start;
  const varint = (): bigint => {
    let v = 0n; let shift = 0n;
    for (;;) {
      assert.ok(p < end, 'varint runs past the message');
      const b = buf[p++];
      v |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return v;
      shift += 7n;
      assert.ok(shift < 70n, 'varint too long');
    }
  };
  while (p < end) {
    const key = Number(varint());
    const field = key >>> 3;
    const wire = key & 7;
    const def = schema[field];
    let value: unknown;
    if (wire === 0) value = varint();
    else if (wire === 1) { assert.ok(p + 8 <= end); value = def?.type === 'double' ? view.getFloat64(p, true) : view.getBigUint64(p, true); p += 8; }
    else if (wire === 5) { p += 4; }
    else if (wire === 2) {
      const len = Number(varint());
      assert.ok(p + len <= end, `field ${field} of ${type} runs past its message`);
      if (def && typeof def.type === 'object') value = decode(def.type.message, buf, p, p + len);
      else if (def?.type === 'string') value = new TextDecoder('utf-8', { fatal: true }).decode(buf.subarray(p, p + len));
      p += len;
    } else assert.fail(`wire type ${wire} in ${type}`);
    assert.ok(def, `${type} has no field ${field} in Perfetto's schema as used here`);
    const expectedWire = typeof def.type === 'object' ? 2 : WIRE[def.type];
    assert.equal(wire, expectedWire, `${type}.${def.name}: wire type ${wire}, schema says ${expectedWire}`);
    if (def.type === 'int32') assert.ok((value as bigint) < 2n ** 31n, `${type}.${def.name} out of int32 range`);
    if (def.type === 'uint32') assert.ok((value as bigint) < 2n ** 32n, `${type}.${def.name} out of uint32 range`);
    if (def.repeated) ((out[def.name] ??= []) as unknown[]).push(value);
    else out[def.name] = value;
  }
  return out;
}

export function checkPerfetto(bytes: Uint8Array): { flows: number; slices: number; tracks: number } {
  const trace = decode('Trace', bytes);
  const packets = (trace.packet ?? []) as Msg[];
  assert.ok(packets.length > 0);
  assert.equal(packets[0].sequence_flags, 1n, 'the first packet clears incremental state');
  const tracks = new Map<bigint, Msg>();
  const events: Array<{ ts: bigint; ev: Msg; i: number }> = [];
  packets.forEach((pk, i) => {
    assert.equal(pk.trusted_packet_sequence_id, 1n);
    const td = pk.track_descriptor as Msg | undefined;
    if (td) {
      const uuid = td.uuid as bigint;
      assert.ok(uuid > 0n && !tracks.has(uuid), `track uuid ${uuid} unique`);
      if (td.parent_uuid !== undefined) assert.ok(tracks.has(td.parent_uuid as bigint), `parent of ${uuid} declared before it`);
      tracks.set(uuid, td);
    }
    const te = pk.track_event as Msg | undefined;
    if (te) {
      assert.ok(typeof pk.timestamp === 'bigint', 'track events carry a timestamp');
      assert.ok(tracks.has(te.track_uuid as bigint), 'event on a declared track');
      events.push({ ts: pk.timestamp as bigint, ev: te, i });
    }
  });
  // What the trace processor does: a stable sort by timestamp, then per-track begin/end stacks.
  events.sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : a.i - b.i));
  const stacks = new Map<bigint, Msg[]>();
  const flowStart = new Map<bigint, bigint>();
  const flowEnd = new Map<bigint, bigint>();
  let slices = 0;
  for (const { ts, ev } of events) {
    const track = ev.track_uuid as bigint;
    const st = stacks.get(track) ?? stacks.set(track, []).get(track)!;
    const type = Number(ev.type);
    if (type === 1) { assert.ok(typeof ev.name === 'string'); st.push(ev); slices++; }
    else if (type === 2) assert.ok(st.pop(), `END without BEGIN on track ${track}`);
    else assert.equal(type, 3);
    for (const id of (ev.flow_ids ?? []) as bigint[]) { assert.ok(!flowStart.has(id), `flow ${id} started twice`); flowStart.set(id, ts); }
    for (const id of (ev.terminating_flow_ids ?? []) as bigint[]) { assert.ok(!flowEnd.has(id), `flow ${id} ended twice`); flowEnd.set(id, ts); }
  }
  for (const [track, st] of stacks) assert.equal(st.length, 0, `slices left open on track ${track}`);
  assert.deepEqual([...flowStart.keys()].sort(), [...flowEnd.keys()].sort());
  for (const [id, ts] of flowStart) assert.ok(ts <= flowEnd.get(id)!, `flow ${id}: the start is the earlier event`);
  return { flows: flowStart.size, slices, tracks: tracks.size };
}

