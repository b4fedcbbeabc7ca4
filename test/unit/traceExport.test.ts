// Exported files checked by the formats' own rules, with a real parser: JSON.parse plus the Trace
// Event Format's rules for Chrome JSON (B/E balanced per thread, X slices nested per thread, flow
// s/f pairs with unique ids, each bound to a slice); for Perfetto, a protobuf decoder driven by a
// schema whose field names, numbers and types are those of Perfetto's published .proto files
// (protos/perfetto/trace/trace.proto, trace_packet.proto, track_event/track_event.proto,
// track_descriptor.proto, process_descriptor.proto, thread_descriptor.proto, debug_annotation.proto)
// and the TrackEvent rules (every track declared once with a known parent, BEGIN/END balanced per
// track in time order, flow ids started once and terminated once, the start first).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { TraceRun } from '../../src/core/traceModel';
import { generateTrace } from '../../src/core/syntheticTrace';
import { chromeTraceChunks, perfettoTraceChunks } from '../../src/core/exportFormats';
import type { ExportCounts } from '../../src/core/exportWalk';
import { checkChrome, checkPerfetto, decode, type ChromeEvent, type Msg } from './exportCheck';

const fixture = (name: string) => readFileSync(join(__dirname, 'fixtures', name));

function load(data: string | Uint8Array): TraceRun {
  const run = new TraceRun('k', 'test');
  run.ingest(data);
  run.finish();
  return run;
}

function synthetic(): TraceRun {
  return load([...generateTrace({ tasks: 400, stepsPerTask: 8, seed: 7, concurrency: 40 })].join(''));
}

const RUNS: Array<[string, () => TraceRun]> = [
  ['synthetic 400 tasks', synthetic],
  ['03_create_task', () => load(fixture('03_create_task.jsonl'))],
  ['04_gather', () => load(fixture('04_gather.jsonl'))],
  ['05_wait_for_timeout', () => load(fixture('05_wait_for_timeout.jsonl'))],
  ['07_greenlet_switch', () => load(fixture('07_greenlet_switch.jsonl'))],
  ['08_gevent_spawn', () => load(fixture('08_gevent_spawn.jsonl'))],
];

for (const [name, make] of RUNS) {
  test(`Chrome JSON export of ${name} follows the Trace Event Format's rules`, () => {
    const counts: ExportCounts = { tracks: 0, slices: 0, flows: 0, instants: 0 };
    const text = Buffer.concat([...chromeTraceChunks(make(), counts)]).toString('utf8');
    const doc = JSON.parse(text) as { traceEvents: ChromeEvent[] };
    const r = checkChrome(doc.traceEvents);
    assert.equal(r.flows, counts.flows);
    assert.equal(r.slices, counts.slices);
    assert.ok(counts.slices > 0);
  });
}

for (const [name, make] of RUNS) {
  test(`Perfetto export of ${name} decodes with Perfetto's schema and follows the TrackEvent rules`, () => {
    const counts: ExportCounts = { tracks: 0, slices: 0, flows: 0, instants: 0 };
    const chunks = [...perfettoTraceChunks(make(), counts)];
    const bytes = gunzipSync(gzipSync(Buffer.concat(chunks)));
    const r = checkPerfetto(bytes);
    assert.equal(r.flows, counts.flows);
    assert.equal(r.slices, counts.slices);
    assert.equal(r.tracks, counts.tracks);
  });
}

test('the export nests each task under its parent and carries await sites, flows and instants', () => {
  const run = load(fixture('05_wait_for_timeout.jsonl'));
  const bytes = Buffer.concat([...perfettoTraceChunks(run)]);
  const packets = decode('Trace', bytes).packet as Msg[];
  const tds = packets.map((p) => p.track_descriptor as Msg | undefined).filter((x): x is Msg => !!x);
  const byName = (re: RegExp) => tds.find((t) => re.test(String(t.name)))!;
  const main = byName(/^Task-1 \(main\)/);
  const child = byName(/^Task-2 \(eternity\)/);
  assert.equal(child.parent_uuid, main.uuid);
  const proc = tds.find((t) => t.process)!;
  assert.equal((proc.process as Msg).pid, 1743n);
  const thread = tds.find((t) => t.thread)!;
  assert.equal(main.parent_uuid, thread.uuid);
  const evs = packets.map((p) => p.track_event as Msg | undefined).filter((x): x is Msg => !!x);
  const wait = evs.find((e) => e.name === 'await sleep')!;
  const ann = Object.fromEntries((wait.debug_annotations as Msg[]).map((a) => [a.name, a.string_value ?? a.int_value]));
  assert.match(String(ann.await_site), /05_wait_for_timeout\.py:7 eternity/);
  assert.equal(ann.awaited, 'sleep 3600 s');
  assert.ok(evs.some((e) => e.name === 'timeout fired' && Number(e.type) === 3));
  assert.ok(evs.some((e) => e.name === 'cancel requested'));
  assert.ok(evs.some((e) => (e.flow_ids as unknown[] | undefined)?.length), 'the creation flow');
});
