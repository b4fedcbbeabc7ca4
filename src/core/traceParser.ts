// Streaming JSON Lines reader for trace format v1 (docs/trace-format.md).
// Chunks in (strings or bytes, split anywhere), validated events out. Bad input is counted, never thrown.
import type { ParseIssues } from './modelTypes';
import { TRACE_FORMAT_VERSION, type AwaitInfo, type TraceEvent } from './traceEvents';

const NL = 10;
const CR = 13;

export class TraceParser {
  readonly issues: ParseIssues = { badLines: 0, unknownTypes: 0, truncatedTail: false, missingHeader: false };

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

  /** Parses every complete line in `chunk` (plus what was carried over) and returns the valid events. */
  push(chunk: string | Uint8Array): TraceEvent[] {
    const out: TraceEvent[] = [];
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
    if (this.byteCarryLength > 0) {
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
    if (this.ended) return [];
    this.ended = true;
    const out: TraceEvent[] = [];
    let tail = this.carry;
    this.carry = '';
    if (this.byteCarryLength > 0) tail += this.decodeByteCarry();
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
    if (this.carry.length > 0) {
      // Only the line that straddles the chunk boundary is concatenated.
      const nl = text.indexOf('\n');
      if (nl < 0) { this.carry += text; return; }
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
      if (end > pos) this.parseLine(text, pos, end, out);
      pos = nl + 1;
    }
    if (pos < len) this.carry = pos === 0 ? text : text.slice(pos);
  }

  /** Copies bytes of an unfinished line (the caller may reuse its buffer). */
  private keepBytes(bytes: Uint8Array): void {
    this.byteCarry.push(bytes.slice());
    this.byteCarryLength += bytes.length;
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
    const first = text.charCodeAt(start);
    if (first !== 123 /* { */) {
      // Whitespace-only lines count as blank; anything else that does not start an object is bad.
      if (text.slice(start, end).trim().length === 0) return;
    }
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
    if (!this.sawFirstEvent) {
      this.sawFirstEvent = true;
      if (type !== 'run') this.issues.missingHeader = true;
    }
    if (type === 'run' && (e.v as number) > TRACE_FORMAT_VERSION) this.issues.newerVersion = e.v as number;
    out.push(obj as TraceEvent);
  }

  private bad(): void {
    if (this.issues.badLines++ === 0) this.issues.firstBadLine = this.lineNo;
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
  if (typeof a !== 'object' || a === null || !Array.isArray((a as { stack?: unknown }).stack)) return false;
  const on = (a as { on?: unknown }).on;
  return on === undefined || (typeof on === 'object' && on !== null && typeof (on as { kind?: unknown }).kind === 'string');
}

const isNum = (v: unknown): v is number => typeof v === 'number' && v === v; // excludes NaN
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
    case 'loop':
      return isNum(e.id) && isNum(e.ts) && typeof e.state === 'string' && (e.pending === undefined || Array.isArray(e.pending));
    case 'run':
      return isNum(e.v);
    case 'exit':
      return isNum(e.ts);
    default:
      return undefined;
  }
}
