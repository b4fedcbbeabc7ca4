// The generic defensive-typing layer of the trace reader: a trace is untrusted input
// (docs/trace-format.md), so after a line's required fields are validated (traceParser.ts), every
// field it has goes through one check by its name, whatever the line's type: a line type added
// later gets the same protection by naming its fields here (or in FIELD_KINDS_BY_TYPE when a name
// means something else in it).
import type { WokeBy } from './traceEvents';

/** Lines shorter than this cannot nest deep enough to matter and are not scanned. */
export const DEEP_SCAN_FROM = 256;
/** Deepest nesting of arrays/objects accepted in a line (the format's deepest is 4). */
export const MAX_NESTING = 64;

type FieldKind =
  | 'id' // a non-negative safe integer; required where validated, else null or dropped
  | 'time' // a finite number
  | 'dur' // a finite number >= 0; a negative one makes the line invalid
  | 'num' // a finite number
  | 'str'
  | 'bool'
  | 'strs' // an array of strings
  | 'ids' // an array of ids (others are left out)
  | 'error' // { type, message, site }
  | 'wokeBy' // { kind: string, task?: id, item?: id }
  | 'any';

/** Field name -> what it must be, for every line type. */
const FIELD_KINDS: Record<string, FieldKind> = {
  id: 'id', task: 'id', parent: 'id', site: 'id', by: 'id', loop: 'id', timeout: 'id', def: 'id', item: 'id', obj: 'id', lock: 'id',
  ts: 'time', woke: 'time', started_ts: 'time',
  dur: 'dur',
  v: 'num', pid: 'num', line: 'num', code: 'num', dropped: 'num', delay: 'num', blockMs: 'num', ident: 'num',
  name: 'str', coro: 'str', func: 'str', file: 'str', module: 'str', cwd: 'str', python: 'str', started: 'str',
  class: 'str', cause: 'str', kind: 'str', state: 'str', executor: 'str', pool: 'str', runtime: 'str',
  implementation: 'str', op: 'str',
  eager: 'bool', internal: 'bool', partial: 'bool', unsupported: 'bool', guest: 'bool',
  argv: 'strs', unseen: 'strs',
  pending: 'ids',
  error: 'error',
  wokeBy: 'wokeBy',
};

/** Where a name means something else in one line type. */
const FIELD_KINDS_BY_TYPE: Record<string, Record<string, FieldKind>> = {
  // A loop's and a task's thread is an ident; an executor item's is the worker thread's name.
  exec: { thread: 'str' },
  task: { thread: 'num' },
  loop: { thread: 'num' },
  // A step's `await` is validated by the parser (its stack and `on`).
  step: { await: 'any' },
};

/** Fields a reader relies on being there once the line is accepted (TypeScript says they are). */
const DEFAULTS: Record<string, Record<string, () => unknown>> = {
  run: { argv: () => [], python: () => '', cwd: () => '', started: () => '' },
};

const isId = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isFinite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/**
 * Checks every field of an accepted line by its name (FIELD_KINDS). Returns -1 when the line must
 * be skipped (an id that is not a non-negative safe integer, a negative duration, a non-finite
 * time), else how many optional fields were dropped for being ill-typed. Mutates `e`: drops those
 * fields, normalizes `error` objects, fills DEFAULTS.
 */
export function checkFields(type: string, e: Record<string, unknown>): number {
  const own = FIELD_KINDS_BY_TYPE[type];
  let dropped = 0;
  for (const key in e) {
    if (key === 'type') continue;
    const kind = (own !== undefined ? own[key] : undefined) ?? FIELD_KINDS[key];
    if (kind === undefined || kind === 'any') continue;
    const v = e[key];
    if (v === null) continue; // "none" wherever a field is optional (required ones were validated)
    switch (kind) {
      case 'id':
        if (isId(v)) continue;
        // `id`, `task` and `obj` are required where a type has them (the parser validated they are numbers).
        if ((key === 'id' || key === 'task' || key === 'obj') && typeof v === 'number') return -1;
        break;
      case 'dur':
        if (isFinite(v)) { if (v < 0) return -1; continue; }
        break;
      case 'time':
      case 'num':
        if (isFinite(v)) continue;
        if (typeof v === 'number') return -1; // NaN/Infinity in a field the parser required
        break;
      case 'str':
        if (typeof v === 'string') continue;
        break;
      case 'bool':
        if (typeof v === 'boolean') continue;
        break;
      case 'strs':
        if (Array.isArray(v) && v.every((s) => typeof s === 'string')) continue;
        break;
      case 'ids':
        if (Array.isArray(v)) {
          if (!v.every(isId)) { e[key] = v.filter(isId); dropped++; }
          continue;
        }
        break;
      case 'wokeBy': {
        const w = normalizeWokeBy(v);
        if (w === undefined) break;
        e[key] = w;
        continue;
      }
      case 'error': {
        const n = normalizeError(v);
        if (n === undefined) break;
        e[key] = n;
        continue;
      }
    }
    delete e[key];
    dropped++;
  }
  const defaults = DEFAULTS[type];
  if (defaults !== undefined) for (const key in defaults) if (e[key] === undefined || e[key] === null) e[key] = defaults[key]();
  return dropped;
}

/**
 * A step's `wokeBy` as `{kind, task?, item?}` (a string kind; ids kept only when they are ids), or
 * undefined when it is not an object with a string kind. Other fields are left out.
 */
export function normalizeWokeBy(v: unknown): WokeBy | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  const o = v as Record<string, unknown>;
  if (typeof o.kind !== 'string') return undefined;
  const out: WokeBy = { kind: o.kind };
  if (isId(o.task)) out.task = o.task;
  if (isId(o.item)) out.item = o.item;
  return out;
}

/** `{type, message, site}` with a string type and message (a number message as its text), or undefined. */
function normalizeError(v: unknown): { type: string; message: string; site?: number | null } | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  const o = v as Record<string, unknown>;
  const text = (x: unknown): string =>
    typeof x === 'string' ? x : typeof x === 'number' || typeof x === 'boolean' ? String(x) : '';
  const out: { type: string; message: string; site?: number | null } = {
    type: text(o.type) || '?',
    message: text(o.message),
  };
  if (isId(o.site)) out.site = o.site;
  else if (o.site === null) out.site = null;
  return out;
}

/**
 * The deepest nesting of `[`/`{` in a JSON text (strings skipped), stopping early past
 * MAX_NESTING: a cheap scan so that only bounded values reach the rest of the reader.
 */
export function nestingDepth(text: string, start: number, end: number): number {
  let depth = 0;
  let max = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      for (i++; i < end; i++) {
        const d = text.charCodeAt(i);
        if (d === 92 /* \ */) i++;
        else if (d === 34) break;
      }
    } else if (c === 91 || c === 123) {
      if (++depth > max) { max = depth; if (max > MAX_NESTING) return max; }
    } else if (c === 93 || c === 125) {
      depth--;
    }
  }
  return max;
}
