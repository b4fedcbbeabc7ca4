import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { TraceParser, parseTrace } from '../../src/core/traceParser';
import type { TraceEvent } from '../../src/core/traceEvents';

const RUN = '{"type":"run","v":1,"pid":1,"python":"3.12.1","argv":["p.py"],"cwd":"/p","started":"2026-11-25T15:00:00.000Z"}';
// Multibyte text in names and messages: 2-byte (é), 3-byte (数), 4-byte (🚀) UTF-8 sequences.
const SAMPLE = [
  RUN,
  '{"type":"site","id":1,"file":"/p/données.py","line":3,"func":"main"}',
  '{"type":"task","id":1,"ts":10,"kind":"asyncio","name":"Task-1","coro":"main","parent":null,"site":1}',
  '{"type":"name","task":1,"name":"数据-🚀-é"}',
  '{"type":"step","task":1,"ts":20,"dur":5,"await":{"stack":[1],"on":{"kind":"sleep","delay":1.0}}}',
  '{"type":"end","task":1,"ts":1000030,"state":"failed","error":{"type":"ValueError","message":"échec 🚀 数"}}',
  '{"type":"exit","ts":1000040,"code":1,"dropped":0}',
].join('\n') + '\n';

function parseChunks(chunks: (string | Uint8Array)[]): { events: TraceEvent[]; p: TraceParser } {
  const p = new TraceParser();
  const events: TraceEvent[] = [];
  for (const c of chunks) events.push(...p.push(c));
  events.push(...p.end());
  return { events, p };
}

test('whole text parses into the events, no issues', () => {
  const { events, issues } = parseTrace(SAMPLE);
  assert.equal(events.length, 7);
  assert.deepEqual(events.map((e) => e.type), ['run', 'site', 'task', 'name', 'step', 'end', 'exit']);
  assert.equal((events[3] as { name: string }).name, '数据-🚀-é');
  assert.deepEqual(issues, { badLines: 0, unknownTypes: 0, truncatedTail: false, missingHeader: false });
});

test('bytes split at every position (inside multibyte characters too) give the same events', () => {
  const bytes = new TextEncoder().encode(SAMPLE);
  const expected = parseTrace(SAMPLE).events;
  for (let i = 0; i <= bytes.length; i++) {
    const { events, p } = parseChunks([bytes.subarray(0, i), bytes.subarray(i)]);
    assert.deepEqual(events, expected, `split at byte ${i}`);
    assert.equal(p.issues.badLines, 0);
    assert.equal(p.issues.truncatedTail, false);
  }
});

test('chunks read into one reused Node Buffer (as a file reader does) give the same events', () => {
  const text = readFileSync(join(__dirname, 'fixtures', '08_gevent_spawn.jsonl'), 'utf8');
  const data = Buffer.from(text, 'utf8');
  const want = parseTrace(text).events;
  for (const size of [7, 64, 333]) {
    const p = new TraceParser();
    const buf = Buffer.allocUnsafe(size);
    const got: TraceEvent[] = [];
    for (let o = 0; o < data.length; o += size) {
      const n = data.copy(buf, 0, o, Math.min(o + size, data.length));
      got.push(...p.push(buf.subarray(0, n)));
      buf.fill(0x7b); // the reader overwrites its buffer with the next chunk
    }
    got.push(...p.end());
    assert.deepEqual(got, want, `chunks of ${size} bytes`);
    assert.equal(p.issues.badLines, 0);
  }
});

test('three-way byte splits and one-byte chunks', () => {
  const bytes = new TextEncoder().encode(SAMPLE);
  const expected = parseTrace(SAMPLE).events;
  for (let i = 0; i < bytes.length; i += 7) {
    for (let j = i; j <= bytes.length; j += 5) {
      const { events } = parseChunks([bytes.subarray(0, i), bytes.subarray(i, j), bytes.subarray(j)]);
      assert.deepEqual(events, expected, `split at ${i}, ${j}`);
    }
  }
  const ones: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i++) ones.push(bytes.slice(i, i + 1));
  assert.deepEqual(parseChunks(ones).events, expected);
});

test('string chunks split at every position; mixed string and byte chunks', () => {
  const expected = parseTrace(SAMPLE).events;
  for (let i = 0; i <= SAMPLE.length; i++) {
    assert.deepEqual(parseChunks([SAMPLE.slice(0, i), SAMPLE.slice(i)]).events, expected, `split at char ${i}`);
  }
  const enc = new TextEncoder();
  const mid = SAMPLE.indexOf('数据') + 5;
  assert.deepEqual(parseChunks([SAMPLE.slice(0, mid), enc.encode(SAMPLE.slice(mid))]).events, expected);
  assert.deepEqual(parseChunks([enc.encode(SAMPLE.slice(0, mid)), SAMPLE.slice(mid)]).events, expected);
});

test('events are returned as soon as their line is complete', () => {
  const p = new TraceParser();
  assert.deepEqual(p.push(RUN.slice(0, 20)), []);
  const out = p.push(RUN.slice(20) + '\n{"type":"site","id":1,');
  assert.equal(out.length, 1);
  assert.equal(out[0].type, 'run');
  const out2 = p.push('"file":"/a.py","line":1,"func":"f"}\n');
  assert.equal(out2.length, 1);
  assert.equal(out2[0].type, 'site');
  assert.deepEqual(p.end(), []);
  assert.equal(p.issues.truncatedTail, false);
});

test('CRLF line ends and blank lines are tolerated', () => {
  const crlf = SAMPLE.replace(/\n/g, '\r\n').replace('\r\n', '\r\n\r\n   \r\n\n');
  const { events, issues } = parseTrace(crlf);
  assert.deepEqual(events, parseTrace(SAMPLE).events);
  assert.equal(issues.badLines, 0);
  // CR and LF split across chunks.
  const i = crlf.indexOf('\r\n') + 1;
  assert.deepEqual(parseChunks([crlf.slice(0, i), crlf.slice(i)]).events, parseTrace(SAMPLE).events);
});

test('bad lines are counted with the first bad line number (1-based, blank lines counted)', () => {
  const text = [
    RUN, // 1
    '', // 2
    '{"type":"task","id":1,"ts":10,"kind":"asyncio","name":"T","coro":"c","parent":null,"site":null}', // 3
    '{not json', // 4 bad
    '[1,2]', // 5 bad: not an object
    '42', // 6 bad
    'null', // 7 bad
    '{"type":"step","task":1,"dur":5}', // 8 bad: no ts
    '{"type":"task","id":"x","ts":1}', // 9 bad: ill-typed id
    '{"no":"type"}', // 10 bad: no type
    '{"type":"end","task":1,"ts":50,"state":"exploded"}', // 11 bad: unknown end state
    '{"type":"step","task":1,"ts":20,"dur":5,"await":{"on":{"kind":"sleep"}}}', // 12 bad: await without stack
    '{"type":"end","task":1,"ts":60,"state":"done"}', // 13 ok
  ].join('\n') + '\n';
  const { events, issues } = parseTrace(text);
  assert.deepEqual(events.map((e) => e.type), ['run', 'task', 'end']);
  assert.equal(issues.badLines, 9);
  assert.equal(issues.firstBadLine, 4);
  assert.equal(issues.truncatedTail, false);
});

test('first bad line number is right across chunk boundaries', () => {
  const text = `${RUN}\n\n{"type":"site","id":1,"file":"a","line":1,"func":"f"}\n{"type":"site"\n`;
  for (let i = 0; i <= text.length; i++) {
    const { p } = parseChunks([text.slice(0, i), text.slice(i)]);
    assert.equal(p.issues.badLines, 1);
    assert.equal(p.issues.firstBadLine, 4, `split at ${i}`);
  }
});

test('unknown types are counted and ignored; unknown fields are kept', () => {
  const text = `${RUN}\n{"type":"gc","ts":5,"gen":2}\n{"type":"future-thing"}\n{"type":"site","id":1,"file":"a","line":1,"func":"f","col":7}\n`;
  const { events, issues } = parseTrace(text);
  assert.deepEqual(events.map((e) => e.type), ['run', 'site']);
  assert.equal(issues.unknownTypes, 2);
  assert.equal(issues.badLines, 0);
  assert.equal((events[1] as unknown as { col: number }).col, 7);
});

test('a newer format version loads anyway and is reported', () => {
  const text = RUN.replace('"v":1', '"v":3') + '\n{"type":"site","id":1,"file":"a","line":1,"func":"f"}\n';
  const { events, issues } = parseTrace(text);
  assert.equal(events.length, 2);
  assert.equal(issues.newerVersion, 3);
  assert.equal(parseTrace(RUN + '\n').issues.newerVersion, undefined);
});

test('truncated tail: a final valid line without newline is still parsed', () => {
  const { events, issues } = parseTrace(`${RUN}\n{"type":"exit","ts":5,"code":0,"dropped":0}`);
  assert.deepEqual(events.map((e) => e.type), ['run', 'exit']);
  assert.equal(issues.truncatedTail, true);
  assert.equal(issues.badLines, 0);
});

test('truncated tail: a cut-off final line is reported, not counted as bad', () => {
  const bytes = new TextEncoder().encode(`${RUN}\n{"type":"name","task":1,"name":"数`);
  // Cut inside the 3-byte character as a killed writer would.
  const { events, p } = parseChunks([bytes.subarray(0, bytes.length - 1)]);
  assert.deepEqual(events.map((e) => e.type), ['run']);
  assert.equal(p.issues.truncatedTail, true);
  assert.equal(p.issues.badLines, 0);
});

test('missing header is reported when the first valid line is not run', () => {
  assert.equal(parseTrace('{"type":"site","id":1,"file":"a","line":1,"func":"f"}\n').issues.missingHeader, true);
  // Garbage and unknown types before the run line do not count as the first valid line.
  const ok = parseTrace(`garbage\n{"type":"zzz"}\n${RUN}\n`).issues;
  assert.equal(ok.missingHeader, false);
  assert.equal(ok.badLines, 1);
  assert.equal(parseTrace('').issues.missingHeader, false);
});

test('end() is idempotent and push after end of an empty stream is harmless', () => {
  const p = new TraceParser();
  p.push(RUN);
  assert.equal(p.end().length, 1);
  assert.deepEqual(p.end(), []);
});

test('tolerant of nulls the runtime writes for optional values', () => {
  const text = `${RUN}\n{"type":"task","id":1,"ts":1,"kind":"greenlet","name":"main","coro":null,"parent":null,"site":null}\n{"type":"step","task":1,"ts":2,"dur":1,"woke":null}\n`;
  const { events, issues } = parseTrace(text);
  assert.equal(events.length, 3);
  assert.equal(issues.badLines, 0);
});

test('recorded traces of the examples parse without issues', () => {
  const dir = join(__dirname, 'fixtures');
  const files = readdirSync(dir).filter((f) => f.endsWith('.jsonl'));
  assert.ok(files.length >= 5);
  for (const f of files) {
    const { events, issues } = parseTrace(readFileSync(join(dir, f)));
    assert.equal(events[0].type, 'run', f);
    assert.equal(events[events.length - 1].type, 'exit', f);
    assert.deepEqual(issues, { badLines: 0, unknownTypes: 0, truncatedTail: false, missingHeader: false }, f);
  }
});
