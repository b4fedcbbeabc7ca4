// Writes an exported run (core/exportWalk.ts) as Chrome Trace Event JSON (the simple fallback:
// chrome://tracing, Perfetto UI, Speedscope read it) or as a Perfetto protobuf trace (big runs:
// smaller, and Perfetto's track tree nests each task's track under its parent's). Both are
// produced as chunks (Chrome JSON as UTF-8 bytes written directly), so a 1,000,000-event run never becomes one huge string or buffer.
// Field numbers: perfetto/protos/perfetto/trace/{trace,trace_packet}.proto and track_event/
// {track_event,track_descriptor,process_descriptor,thread_descriptor,debug_annotation}.proto.
import { walkExportSteps, type ArgValue, type ExportCounts, type ExportSink, type ExportTrack } from './exportWalk';
import type { TraceRunView } from './modelTypes';
import { JsonBytesWriter } from './jsonBytesWriter';
import { ProtoWriter } from './protoWriter';

export type ExportFormat = 'perfetto' | 'chrome';

const CHUNK_BYTES = 1 << 20;

/** Chrome Trace Event JSON ({"traceEvents": [...]}), as UTF-8 byte chunks. */
export function* chromeTraceChunks(run: TraceRunView, counts?: ExportCounts): Generator<Uint8Array> {
  const w = new JsonBytesWriter(CHUNK_BYTES + (1 << 16));
  const tids = new Map<number, { pid: number; tid: number }>();
  let first = true;
  const SEP = w.encode(',\n');
  const sep = () => { if (first) first = false; else w.bytes(SEP); };
  const ev = (json: string) => { sep(); w.text(json); };
  const argsJson = (args: Record<string, ArgValue> | undefined) => (args ? `,"args":${JSON.stringify(args)}` : '');
  // Per shared argument object (a wait's site and target): its `,"args":{...` bytes, without the
  // closing brace (a slice's own `woke_us` may follow), encoded once.
  const sharedArgs = new WeakMap<object, Uint8Array>();
  const ARGS_WOKE = w.encode(',"args":{"woke_us":');
  const WOKE = w.encode('"woke_us":');
  const sliceArgs = (args: Record<string, ArgValue> | undefined, woke: number | undefined): void => {
    if (!args) {
      if (woke !== undefined) { w.bytes(ARGS_WOKE); w.num(woke); w.bytes(CLOSE); }
      return;
    }
    let open = sharedArgs.get(args);
    if (open === undefined) sharedArgs.set(args, (open = w.encode(`,"args":${JSON.stringify(args).slice(0, -1)}`)));
    w.bytes(open);
    // An empty object's bytes end with its `{`: no comma before the slice's own argument.
    if (woke !== undefined) { if (open[open.length - 1] !== 123) w.bytes(COMMA); w.bytes(WOKE); w.num(woke); }
    w.bytes(CLOSE);
  };
  // A generator cannot yield from the sink's callbacks: chunks are gathered, and handed out
  // between two tasks of the walk.
  const pending: Uint8Array[] = [];
  const flushTo = () => { if (w.pos >= CHUNK_BYTES) pending.push(w.take()); };
  w.text('{"displayTimeUnit":"ms","traceEvents":[\n');
  const where = (track: number) => tids.get(track)!;
  // Per track, its `"pid":..,"tid":..,"ts":` bytes; per name and category, their JSON bytes: made
  // once (a big run writes the same few names and tracks a million times).
  const prefixes = new Map<number, Uint8Array>();
  const at = (track: number): Uint8Array => {
    let p = prefixes.get(track);
    if (p === undefined) {
      const { pid, tid } = where(track);
      prefixes.set(track, (p = w.encode(`"pid":${pid},"tid":${tid},"ts":`)));
    }
    return p;
  };
  const names = new Map<string, Uint8Array>();
  const nameBytes = (name: string): Uint8Array => {
    let j = names.get(name);
    if (j === undefined) {
      j = w.encode(`,"name":${JSON.stringify(name)},"cat":"`);
      if (names.size < 100_000) names.set(name, j);
    }
    return j;
  };
  const cats = new Map<string, Uint8Array>();
  const catBytes = (cat: string): Uint8Array => {
    let c = cats.get(cat);
    if (c === undefined) cats.set(cat, (c = w.encode(`${cat}"`)));
    return c;
  };
  const X = w.encode('{"ph":"X",');
  const DUR = w.encode(',"dur":');
  const CLOSE = w.encode('}');
  const FLOW_S = w.encode('{"ph":"s","id":');
  const FLOW_F = w.encode('{"ph":"f","bp":"e","id":');
  const COMMA = w.encode(',');
  const FLOW_END = w.encode(',"name":"flow","cat":"flow"}');
  const flow = (head: Uint8Array, id: number, p: Uint8Array, ts: number) => {
    sep(); w.bytes(head); w.num(id); w.bytes(COMMA); w.bytes(p); w.num(ts); w.bytes(FLOW_END);
  };
  const sink: ExportSink = {
    track(t: ExportTrack) {
      // Chrome's format has processes and threads only: a task is a thread of its own, placed
      // after its parent (sort index) and indented by depth in its name.
      const tid = t.kind === 'thread' ? t.tid! : t.kind === 'process' ? 0 : 0x40000000 + t.uuid;
      tids.set(t.uuid, { pid: t.pid, tid });
      if (t.kind === 'process') {
        ev(`{"ph":"M","name":"process_name","pid":${t.pid},"tid":0,"args":${JSON.stringify({ name: t.name })}}`);
        return;
      }
      let depth = 0;
      for (let p = t.parent; p !== null && depths.has(p); p = depths.get(p)!) depth++;
      depths.set(t.uuid, t.parent);
      const name = t.kind === 'task' ? `${'\u2502 '.repeat(Math.max(0, depth - 1))}${t.name}` : t.name;
      ev(`{"ph":"M","name":"thread_name","pid":${t.pid},"tid":${tid},"args":${JSON.stringify({ name })}}`);
      ev(`{"ph":"M","name":"thread_sort_index","pid":${t.pid},"tid":${tid},"args":{"sort_index":${t.uuid}}}`);
    },
    slice(track, ts, dur, name, cat, args, flowsOut, flowsIn, woke) {
      const p = at(track);
      sep();
      w.bytes(X); w.bytes(p); w.num(ts); w.bytes(DUR); w.num(dur);
      w.bytes(nameBytes(name)); w.bytes(catBytes(cat));
      sliceArgs(args, woke);
      w.bytes(CLOSE);
      // Flow ends bind to the enclosing slice at their ts ("bp":"e"); starts to the slice they are in.
      if (flowsOut) for (const id of flowsOut) flow(FLOW_S, id, p, ts);
      if (flowsIn) for (const id of flowsIn) flow(FLOW_F, id, p, ts);
      flushTo();
    },
    begin(track, ts, name, cat, args) {
      const { pid, tid } = where(track);
      ev(`{"ph":"B","pid":${pid},"tid":${tid},"ts":${ts},"name":${JSON.stringify(name)},"cat":"${cat}"${argsJson(args)}}`);
    },
    end(track, ts) {
      const { pid, tid } = where(track);
      ev(`{"ph":"E","pid":${pid},"tid":${tid},"ts":${ts}}`);
      flushTo();
    },
    instant(track, ts, name, cat, args) {
      const { pid, tid } = where(track);
      ev(`{"ph":"i","s":"t","pid":${pid},"tid":${tid},"ts":${ts},"name":${JSON.stringify(name)},"cat":"${cat}"${argsJson(args)}}`);
    },
  };
  const depths = new Map<number, number | null>();
  const walk = walkExportSteps(run, sink);
  let r = walk.next();
  for (; !r.done; r = walk.next()) {
    if (pending.length) { yield* pending; pending.length = 0; }
  }
  if (counts) Object.assign(counts, r.value);
  w.text('\n]}\n');
  pending.push(w.take());
  yield* pending;
}

// Perfetto field numbers (see the header).
const TRACE_PACKET = 1;
const PKT_TIMESTAMP = 8;
const PKT_SEQUENCE_ID = 10;
const PKT_TRACK_EVENT = 11;
const PKT_SEQUENCE_FLAGS = 13;
const PKT_TRACK_DESCRIPTOR = 60;
const SEQ_INCREMENTAL_STATE_CLEARED = 1;
const TD_UUID = 1;
const TD_NAME = 2;
const TD_PROCESS = 3;
const TD_THREAD = 4;
const TD_PARENT_UUID = 5;
const PD_PID = 1;
const PD_PROCESS_NAME = 6;
const THD_PID = 1;
const THD_TID = 2;
const THD_THREAD_NAME = 5;
const TE_DEBUG_ANNOTATIONS = 4;
const TE_TYPE = 9;
const TE_TRACK_UUID = 11;
const TE_CATEGORIES = 22;
const TE_NAME = 23;
const TE_FLOW_IDS = 47;
const TE_TERMINATING_FLOW_IDS = 48;
const TYPE_SLICE_BEGIN = 1;
const TYPE_SLICE_END = 2;
const TYPE_INSTANT = 3;
const DA_INT_VALUE = 4;
const DA_DOUBLE_VALUE = 5;
const DA_STRING_VALUE = 6;
const DA_NAME = 10;
const SEQUENCE_ID = 1;

/** A Perfetto protobuf trace (a `Trace` message: repeated TracePacket), as byte chunks (not gzipped). */
export function* perfettoTraceChunks(run: TraceRunView, counts?: ExportCounts): Generator<Uint8Array> {
  const w = new ProtoWriter(CHUNK_BYTES + (1 << 16));
  const pending: Uint8Array[] = [];
  let firstPacket = true;
  const packet = (ts: number | undefined): number => {
    const m = w.begin(TRACE_PACKET);
    if (ts !== undefined) w.uint(PKT_TIMESTAMP, Math.round(ts * 1000)); // us -> ns
    w.uint(PKT_SEQUENCE_ID, SEQUENCE_ID);
    if (firstPacket) { w.uint(PKT_SEQUENCE_FLAGS, SEQ_INCREMENTAL_STATE_CLEARED); firstPacket = false; }
    return m;
  };
  const done = (m: number) => {
    w.end(m);
    if (w.pos >= CHUNK_BYTES) pending.push(w.take());
  };
  // Shared argument objects (a wait's site and target) are encoded once, then copied as bytes.
  const sharedArgs = new WeakMap<object, Uint8Array>();
  const scratch = new ProtoWriter(1 << 12);
  const annotation = (pw: ProtoWriter, k: string, v: ArgValue) => {
    const d = pw.begin(TE_DEBUG_ANNOTATIONS);
    pw.string(DA_NAME, k);
    if (typeof v === 'string') pw.string(DA_STRING_VALUE, v);
    else if (Number.isSafeInteger(v)) pw.int(DA_INT_VALUE, v);
    else pw.double(DA_DOUBLE_VALUE, v);
    pw.end(d);
  };
  const shared = (a: Record<string, ArgValue>, woke: number | undefined) => {
    let bytes = sharedArgs.get(a);
    if (bytes === undefined) {
      for (const k in a) annotation(scratch, k, a[k]);
      sharedArgs.set(a, (bytes = scratch.take()));
    }
    w.raw(bytes);
    if (woke !== undefined) annotation(w, 'woke_us', woke);
  };
  const args = (a: Record<string, ArgValue> | undefined) => {
    if (!a) return;
    for (const k in a) {
      const v = a[k];
      const d = w.begin(TE_DEBUG_ANNOTATIONS);
      w.string(DA_NAME, k);
      if (typeof v === 'string') w.string(DA_STRING_VALUE, v);
      else if (Number.isSafeInteger(v)) w.int(DA_INT_VALUE, v);
      else w.double(DA_DOUBLE_VALUE, v);
      w.end(d);
    }
  };
  const event = (ts: number, type: number, track: number, name: string | undefined, cat: string | undefined,
    a: Record<string, ArgValue> | undefined, flowsOut?: readonly number[], flowsIn?: readonly number[], sharedArgs?: boolean, woke?: number) => {
    const p = packet(ts);
    const e = w.begin(PKT_TRACK_EVENT);
    w.uint(TE_TYPE, type);
    w.uint(TE_TRACK_UUID, track);
    if (cat !== undefined) w.string(TE_CATEGORIES, cat);
    if (name !== undefined) w.string(TE_NAME, name);
    if (sharedArgs && a) shared(a, woke);
    else {
      args(a);
      if (woke !== undefined) annotation(w, 'woke_us', woke);
    }
    if (flowsOut) for (const id of flowsOut) w.fixed64(TE_FLOW_IDS, id);
    if (flowsIn) for (const id of flowsIn) w.fixed64(TE_TERMINATING_FLOW_IDS, id);
    w.end(e);
    done(p);
  };
  const sink: ExportSink = {
    track(t) {
      const p = packet(undefined);
      const d = w.begin(PKT_TRACK_DESCRIPTOR);
      w.uint(TD_UUID, t.uuid);
      if (t.parent !== null) w.uint(TD_PARENT_UUID, t.parent);
      if (t.kind === 'process') {
        const pd = w.begin(TD_PROCESS);
        w.uint(PD_PID, t.pid);
        w.string(PD_PROCESS_NAME, t.name);
        w.end(pd);
      } else if (t.kind === 'thread') {
        const th = w.begin(TD_THREAD);
        w.uint(THD_PID, t.pid);
        w.uint(THD_TID, t.tid!);
        w.string(THD_THREAD_NAME, t.name);
        w.end(th);
      } else {
        w.string(TD_NAME, t.name);
      }
      w.end(d);
      done(p);
    },
    slice(track, ts, dur, name, cat, a, flowsOut, flowsIn, woke) {
      event(ts, TYPE_SLICE_BEGIN, track, name, cat, a, flowsOut, flowsIn, true, woke);
      event(ts + dur, TYPE_SLICE_END, track, undefined, undefined, undefined);
    },
    begin(track, ts, name, cat, a) { event(ts, TYPE_SLICE_BEGIN, track, name, cat, a); },
    end(track, ts) { event(ts, TYPE_SLICE_END, track, undefined, undefined, undefined); },
    instant(track, ts, name, cat, a) { event(ts, TYPE_INSTANT, track, name, cat, a); },
  };
  const walk = walkExportSteps(run, sink);
  let r = walk.next();
  for (; !r.done; r = walk.next()) {
    if (pending.length) { yield* pending; pending.length = 0; }
  }
  if (counts) Object.assign(counts, r.value);
  pending.push(w.take());
  yield* pending;
}
