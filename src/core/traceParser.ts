// Streaming JSON Lines reader for trace format v1 (docs/trace-format.md).
// Chunks in (strings or bytes, split anywhere), validated events out. Bad input is counted, never thrown.
import type { ParseIssues } from './modelTypes';
import { TRACE_FORMAT_VERSION, type AwaitInfo, type TraceEvent, type WokeBy } from './traceEvents';
import { checkFields, nestingDepth, normalizeWokeBy, DEEP_SCAN_FROM, MAX_NESTING } from './traceFields';

const NL = 10;
const CR = 13;

/**
 * Receives events in line order without materialising `step` lines as objects (TraceRun's fast
 * path). Steps arrive as numbers; their `await` value is resolved once per distinct raw text.
 */
export interface TraceSink {
  /** A validated non-step event (or a step whose line the fast scanner did not take). */
  event(e: TraceEvent): void;
  /** A validated `await` value (first sight of its raw text): the id `step` will receive for it. */
  awaitId(a: AwaitInfo): number;
  /**
   * A validated `step`: woke is NaN when absent, awaitId -1 when the step has no await, wokeBy
   * (wake links) undefined when absent or ill-typed. Equal wokeBy texts share one frozen object.
   */
  step(task: number, ts: number, dur: number, woke: number, awaitId: number, wokeBy?: WokeBy): void;
}

/** `{"type":"step","task":` as char codes: the prefix of every step line the runtime writes. */
const STEP_PREFIX = '{"type":"step","task":';
const TS_KEY = ',"ts":';
const DUR_KEY = ',"dur":';
const WOKE_KEY = ',"woke":';
const AWAIT_KEY = ',"await":';
const WOKE_BY_KEY = ',"wokeBy":';
/** Distinct raw wokeBy texts remembered at most (one per waking task, timer, thread item...). */
const RAW_WOKE_BY_MAX = 1 << 16;
/** Distinct raw await texts remembered at most (about 100 bytes each). */
const RAW_AWAITS_MAX = 1 << 17;
/**
 * Longest line read (characters). The runtime's lines are well under a kilobyte; a sender that
 * never ends its line must not grow the reader's memory without bound: past this the line is
 * dropped (counted in issues.longLines) up to its newline.
 */
export const MAX_LINE_CHARS = 4 * 1024 * 1024;

export class TraceParser {
  /** The optional counters appear on first count (a clean trace's issues stay the four fields). */
  readonly issues: ParseIssues = { badLines: 0, unknownTypes: 0, truncatedTail: false, missingHeader: false };
  /** True while the rest of an over-long line is being skipped (up to its newline). */
  private skippingLong = false;

  /** Unterminated text after the last newline of the previous string chunk. */
  private carry = '';
  /** Unterminated bytes after the last newline of the previous byte chunks. */
  private byteCarry: Uint8Array[] = [];
  private byteCarryLength = 0;
  /** Number of complete lines consumed so far (blank ones included), for 1-based numbering. */
  private lineNo = 0;
  private sawFirstEvent = false;
  private decoder: TextDecoder | undefined;
  private ended = false;
  /** Where pushTo sends events (undefined: push collects them into an array). */
  private sink: TraceSink | undefined;
  /** Raw `await` JSON text -> the sink's await id (dedupes without parsing; owned by one sink). */
  private rawAwaits = new Map<string, number>();
  /** Raw `wokeBy` JSON text -> its normalized value (undefined: ill-typed, dropped). */
  private rawWokeBy = new Map<string, WokeBy | undefined>();
  private rawSink: TraceSink | undefined;
  /** End of the number the last scanNum call read (-1: not a plain JSON integer). */
  private numEnd = -1;

  /** Parses every complete line in `chunk` (plus what was carried over) and returns the valid events. */
  push(chunk: string | Uint8Array): TraceEvent[] {
    const out: TraceEvent[] = [];
    this.sink = undefined;
    this.pushInto(chunk, out);
    return out;
  }

  /**
   * Like push, but hands every event to `sink` in line order and returns how many it handed.
   * Step lines in the runtime's exact shape are scanned by hand (no JSON.parse, no object);
   * any other line, or a step line that deviates in any way, goes through JSON.parse as in push.
   */
  pushTo(chunk: string | Uint8Array, sink: TraceSink): number {
    return this.withSink(sink, () => this.pushInto(chunk, []));
  }

  /** Like end, into a sink; returns how many events it handed. */
  endTo(sink: TraceSink): number {
    return this.withSink(sink, () => this.endInto([]));
  }

  /** Events handed to the sink in the current pushTo/endTo call. */
  private handed = 0;

  private withSink(sink: TraceSink, body: () => void): number {
    if (this.rawSink !== sink) {
      this.rawAwaits.clear();
      this.rawSink = sink;
    }
    this.sink = sink;
    this.handed = 0;
    try {
      body();
    } finally {
      this.sink = undefined;
    }
    return this.handed;
  }

  private pushInto(chunk: string | Uint8Array, out: TraceEvent[]): TraceEvent[] {
    if (typeof chunk === 'string') {
      if (this.byteCarryLength > 0) this.carry += this.decodeByteCarry();
      this.pushText(chunk, out);
      return out;
    }
    // Bytes are cut at their last newline: a newline byte never occurs inside a multibyte UTF-8
    // sequence, so each decode sees whole characters and yields one flat string (fast to scan).
    const last = chunk.lastIndexOf(NL);
    if (last < 0) {
      if (chunk.length > 0) this.keepBytes(chunk);
      return out;
    }
    let head = chunk.subarray(0, last + 1);
    if (this.skippingLong) {
      // The over-long line ends at the first newline: drop it, decode from the next.
      const nl = head.indexOf(NL);
      this.skippingLong = false;
      head = head.subarray(nl + 1);
      this.lineNo++;
    } else if (this.byteCarryLength > 0) {
      this.keepBytes(head);
      head = this.takeByteCarry();
    }
    this.decoder ??= new TextDecoder('utf-8');
    this.pushText(this.decoder.decode(head), out);
    if (last + 1 < chunk.length) this.keepBytes(chunk.subarray(last + 1));
    return out;
  }

  /** End of stream: parses a final unterminated line (flagged as truncatedTail). */
  end(): TraceEvent[] {
    this.sink = undefined;
    return this.endInto([]);
  }

  private endInto(out: TraceEvent[]): TraceEvent[] {
    if (this.ended) return out;
    this.ended = true;
    let tail = this.carry;
    this.carry = '';
    if (this.byteCarryLength > 0) tail += this.decodeByteCarry();
    if (this.skippingLong) { this.skippingLong = false; this.issues.truncatedTail = true; return out; }
    if (tail.length > 0 && tail.trim().length > 0) {
      this.issues.truncatedTail = true;
      let end = tail.length;
      if (tail.charCodeAt(end - 1) === CR) end--;
      // Still load it if it happens to be whole JSON; a cut-off line is not counted as bad (it is the truncation).
      this.lineNo++;
      let obj: unknown;
      try { obj = JSON.parse(tail.slice(0, end)); } catch { return out; }
      this.accept(obj, out);
    }
    return out;
  }

  private pushText(text: string, out: TraceEvent[]): void {
    let pos = 0;
    const len = text.length;
    if (this.skippingLong) {
      const nl = text.indexOf('\n');
      if (nl < 0) return;
      this.skippingLong = false;
      this.lineNo++;
      pos = nl + 1;
    } else if (this.carry.length > 0) {
      // Only the line that straddles the chunk boundary is concatenated.
      const nl = text.indexOf('\n');
      if (nl < 0) {
        if (this.carry.length + text.length > MAX_LINE_CHARS) { this.carry = ''; this.startSkipping(); return; }
        this.carry += text;
        return;
      }
      const line = this.carry + text.slice(0, nl);
      this.carry = '';
      this.lineNo++;
      let end = line.length;
      if (end > 0 && line.charCodeAt(end - 1) === CR) end--;
      if (end > 0) this.parseLine(line, 0, end, out);
      pos = nl + 1;
    }
    while (pos < len) {
      const nl = text.indexOf('\n', pos);
      if (nl < 0) break;
      this.lineNo++;
      let end = nl;
      if (end > pos && text.charCodeAt(end - 1) === CR) end--;
      if (end - pos > MAX_LINE_CHARS) this.issues.longLines = (this.issues.longLines ?? 0) + 1;
      else if (end > pos) this.parseLine(text, pos, end, out);
      pos = nl + 1;
    }
    if (pos < len) {
      if (len - pos > MAX_LINE_CHARS) this.startSkipping();
      else this.carry = pos === 0 ? text : text.slice(pos);
    }
  }

  /** Copies bytes of an unfinished line (the caller may reuse its buffer). */
  private keepBytes(bytes: Uint8Array): void {
    if (this.skippingLong) return;
    // UTF-8 takes at least one byte per character: over the bound in bytes may still be in
    // characters only for bytes that are all ASCII, so bytes are bounded at the same number.
    if (this.byteCarryLength + bytes.length > MAX_LINE_CHARS) {
      this.byteCarry = [];
      this.byteCarryLength = 0;
      this.startSkipping();
      return;
    }
    // (A copy: a Node Buffer's slice() is a view, and the caller may reuse its buffer.)
    this.byteCarry.push(new Uint8Array(bytes));
    this.byteCarryLength += bytes.length;
  }

  /** An over-long line: count it and skip to its end. */
  private startSkipping(): void {
    this.skippingLong = true;
    this.issues.longLines = (this.issues.longLines ?? 0) + 1;
  }

  private takeByteCarry(): Uint8Array {
    const parts = this.byteCarry;
    let all: Uint8Array;
    if (parts.length === 1) {
      all = parts[0];
    } else {
      all = new Uint8Array(this.byteCarryLength);
      let o = 0;
      for (const p of parts) { all.set(p, o); o += p.length; }
    }
    this.byteCarry = [];
    this.byteCarryLength = 0;
    return all;
  }

  private decodeByteCarry(): string {
    this.decoder ??= new TextDecoder('utf-8');
    return this.decoder.decode(this.takeByteCarry());
  }

  private parseLine(text: string, start: number, end: number, out: TraceEvent[]): void {
    const long = end - start >= DEEP_SCAN_FROM;
    if (this.sink !== undefined && !long && text.startsWith(STEP_PREFIX, start) && this.scanStep(text, start, end)) return;
    const first = text.charCodeAt(start);
    if (first !== 123 /* { */) {
      // Whitespace-only lines count as blank; anything else that does not start an object is bad.
      if (text.slice(start, end).trim().length === 0) return;
    }
    // Only a long line can nest deep enough to matter: every reader of a value (a JSON.stringify,
    // a recursive walk) must be able to take whatever the parser accepted.
    if (long && nestingDepth(text, start, end) > MAX_NESTING) { this.invalid(); return; }
    let obj: unknown;
    try {
      obj = JSON.parse(text.slice(start, end));
    } catch {
      this.bad();
      return;
    }
    this.accept(obj, out);
  }

  private accept(obj: unknown, out: TraceEvent[]): void {
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) { this.bad(); return; }
    const e = obj as Record<string, unknown>;
    const type = e.type;
    if (typeof type !== 'string') { this.bad(); return; }
    const known = validate(type, e);
    if (known === undefined) { this.issues.unknownTypes++; return; }
    if (!known) { this.bad(); return; }
    // Well-formed, but values no runtime writes (negative durations, ids past 2^53, ill-typed
    // optional fields): the one generic check every line type goes through (traceFields.ts).
    const checked = checkFields(type, e);
    if (checked < 0) { this.invalid(); return; }
    if (checked > 0) this.issues.droppedFields = (this.issues.droppedFields ?? 0) + checked;
    if (!this.sawFirstEvent) {
      this.sawFirstEvent = true;
      if (type !== 'run') this.issues.missingHeader = true;
    }
    if (type === 'run' && (e.v as number) > TRACE_FORMAT_VERSION) this.issues.newerVersion = e.v as number;
    if (this.sink !== undefined) {
      this.handed++;
      this.sink.event(obj as TraceEvent);
    } else {
      out.push(obj as TraceEvent);
    }
  }

  /**
   * `{"type":"step","task":I,"ts":I,"dur":I[,"woke":I][,"await":A]}` with plain JSON integers I and
   * an `await` value A whose exact text was seen (and validated) before, or that parses and
   * validates now. Returns false, having handed nothing, when the line is anything else: the
   * caller then parses it the general way, so every outcome (values, bad-line counts) is the same.
   */
  private scanStep(text: string, start: number, end: number): boolean {
    const task = this.scanNum(text, start + STEP_PREFIX.length, end);
    let p = this.numEnd;
    if (p < 0 || !text.startsWith(TS_KEY, p)) return false;
    const ts = this.scanNum(text, p + TS_KEY.length, end);
    p = this.numEnd;
    if (p < 0 || !text.startsWith(DUR_KEY, p)) return false;
    const dur = this.scanNum(text, p + DUR_KEY.length, end);
    p = this.numEnd;
    // A negative id or duration takes the general path, which rejects it (traceFields.ts).
    if (p < 0 || dur < 0 || task < 0) return false;
    let woke = NaN;
    if (text.startsWith(WOKE_KEY, p)) {
      woke = this.scanNum(text, p + WOKE_KEY.length, end);
      p = this.numEnd;
      if (p < 0) return false;
    }
    let wokeBy: WokeBy | undefined;
    if (text.startsWith(WOKE_BY_KEY, p)) {
      // A flat object (the runtime writes no nested value in it) up to its closing brace.
      const from = p + WOKE_BY_KEY.length;
      const close = text.indexOf('}', from);
      if (text.charCodeAt(from) !== 123 /* { */ || close < 0 || close >= end - 1) return false;
      const raw = text.slice(from, close + 1);
      if (this.rawWokeBy.has(raw)) {
        wokeBy = this.rawWokeBy.get(raw);
      } else {
        let w: unknown;
        try { w = JSON.parse(raw); } catch { return false; }
        wokeBy = normalizeWokeBy(w);
        if (wokeBy === undefined) return false; // the general path counts the dropped field
        Object.freeze(wokeBy);
        if (this.rawWokeBy.size >= RAW_WOKE_BY_MAX) this.rawWokeBy.clear();
        this.rawWokeBy.set((' ' + raw).slice(1), wokeBy);
      }
      p = close + 1;
    }
    let awaitId = -1;
    if (p === end - 1) {
      if (text.charCodeAt(p) !== 125 /* } */) return false;
    } else {
      // The await value runs to the line's closing brace.
      if (text.charCodeAt(end - 1) !== 125 || !text.startsWith(AWAIT_KEY, p)) return false;
      const from = p + AWAIT_KEY.length;
      const raw = text.slice(from, end - 1);
      const known = this.rawAwaits.get(raw);
      if (known !== undefined) {
        awaitId = known;
      } else {
        let a: unknown;
        try { a = JSON.parse(raw); } catch { return false; }
        if (a !== null && !isAwait(a)) return false;
        awaitId = a === null ? -1 : this.sink!.awaitId(a as AwaitInfo);
        // Texts that differ only in fields that do not split await entries (a later runtime's
        // extras) would grow this without bound: start over instead, the entries stay valid.
        if (this.rawAwaits.size >= RAW_AWAITS_MAX) this.rawAwaits.clear();
        // A flat copy as the key: a slice would keep the whole chunk's text alive.
        this.rawAwaits.set((' ' + raw).slice(1), awaitId);
      }
    }
    if (!this.sawFirstEvent) {
      this.sawFirstEvent = true;
      this.issues.missingHeader = true;
    }
    this.handed++;
    this.sink!.step(task, ts, dur, woke, awaitId, wokeBy);
    return true;
  }

  /**
   * A JSON integer (optional minus, no leading zero, at most 15 digits so it is exact) at `p`,
   * followed by ',' or '}'. Sets numEnd to the index after it, or -1 when it is not one.
   */
  private scanNum(text: string, p: number, end: number): number {
    let neg = false;
    if (p < end && text.charCodeAt(p) === 45 /* - */) { neg = true; p++; }
    const first = p;
    let v = 0;
    let c = 0;
    while (p < end) {
      c = text.charCodeAt(p);
      if (c < 48 || c > 57) break;
      v = v * 10 + (c - 48);
      p++;
    }
    const n = p - first;
    if (n === 0 || n > 15 || (n > 1 && text.charCodeAt(first) === 48) || p >= end || (c !== 44 && c !== 125)) {
      this.numEnd = -1;
      return 0;
    }
    this.numEnd = p;
    return neg ? -v : v;
  }

  private bad(): void {
    if (this.issues.badLines++ === 0) this.issues.firstBadLine = this.lineNo;
  }

  private invalid(): void {
    const n = this.issues.invalidLines ?? 0;
    if (n === 0) this.issues.firstInvalidLine = this.lineNo;
    this.issues.invalidLines = n + 1;
  }
}

/** Parses a whole trace text at once (tests, small files). */
export function parseTrace(text: string | Uint8Array): { events: TraceEvent[]; issues: ParseIssues } {
  const p = new TraceParser();
  const events = p.push(text);
  for (const e of p.end()) events.push(e);
  return { events, issues: p.issues };
}

function isAwait(a: unknown): a is AwaitInfo {
  if (typeof a !== 'object' || a === null) return false;
  const stack = (a as { stack?: unknown }).stack;
  if (!Array.isArray(stack) || !stack.every(isId)) return false;
  const on = (a as { on?: unknown }).on;
  if (on === undefined) return true;
  if (typeof on !== 'object' || on === null || typeof (on as { kind?: unknown }).kind !== 'string') return false;
  // Wake links: the object waited on is an id, or it is left out.
  const o = on as { obj?: unknown };
  if (o.obj !== undefined && !isId(o.obj)) delete o.obj;
  return true;
}

/** A finite number: JSON.parse makes Infinity of `1e999`, and no field of the format may be infinite. */
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isId = (v: unknown): boolean => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isOptNum = (v: unknown): boolean => v === undefined || v === null || isNum(v);
const isOptStr = (v: unknown): boolean => v === undefined || v === null || typeof v === 'string';

/**
 * Checks the fields a reader relies on. Returns undefined for an unknown type, false when a
 * required field is missing or ill-typed. Optional fields that are ill-typed are dropped
 * quietly elsewhere rather than rejecting the line.
 */
function validate(type: string, e: Record<string, unknown>): boolean | undefined {
  switch (type) {
    case 'step': {
      if (!isNum(e.task) || !isNum(e.ts) || !isNum(e.dur)) return false;
      if (e.await !== undefined && e.await !== null && !isAwait(e.await)) return false;
      return e.woke === undefined || e.woke === null || isNum(e.woke);
    }
    case 'task':
      return isNum(e.id) && isNum(e.ts) && isOptNum(e.parent) && isOptNum(e.site)
        && isOptStr(e.name) && isOptStr(e.coro);
    case 'site':
      return isNum(e.id) && typeof e.file === 'string' && isNum(e.line);
    case 'end':
      return isNum(e.task) && isNum(e.ts) && (e.state === 'done' || e.state === 'cancelled' || e.state === 'failed')
        && (e.error === undefined || e.error === null || typeof e.error === 'object');
    case 'name':
      return isNum(e.task) && typeof e.name === 'string';
    case 'timeout':
      return isNum(e.id) && isNum(e.task) && isNum(e.ts) && (e.state === 'armed' || e.state === 'fired' || e.state === 'cleared');
    case 'cancel':
      return isNum(e.task) && isNum(e.ts) && isOptNum(e.by);
    case 'block':
      return isNum(e.ts) && isNum(e.dur) && isOptNum(e.task);
    case 'unretrieved':
      return isNum(e.task);
    case 'obj':
      return isNum(e.id) && typeof e.kind === 'string' && isOptNum(e.task) && isOptNum(e.site);
    case 'hold':
      return isNum(e.obj) && isNum(e.ts) && isOptNum(e.task) && (e.state === 'acquired' || e.state === 'released');
    case 'use':
      return isNum(e.obj) && isNum(e.ts) && isOptNum(e.task) && typeof e.op === 'string';
    case 'exec':
      return isNum(e.id) && isNum(e.ts) && typeof e.state === 'string' && isOptNum(e.task) && isOptNum(e.site);
    case 'loop':
      return isNum(e.id) && isNum(e.ts) && typeof e.state === 'string' && (e.pending === undefined || Array.isArray(e.pending));
    case 'run':
      return isNum(e.v);
    case 'exit':
      return isNum(e.ts);
    case 'reaped':
      return isNum(e.ts) && isNum(e.pid) && isNum(e.code);
    default:
      return undefined;
  }
}
