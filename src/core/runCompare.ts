// Compares two runs of a program: which tasks are new, gone or changed, how the waiting at each
// await site moved (count, total, p50/p95), which timeouts now fire or no longer fire, new
// failures and cancellations, and the wall time. Task ids differ between runs, so tasks are matched
// by what they are: the chain of (creation site, coroutine) from the root task down, tasks with the
// same chain forming one group (a loop's repeated tasks) compared by counts and sums.
// Sites are matched by file, function and line; a site whose line moved (an edit above it) is
// matched by its rank among the unmatched sites of its function when both runs have as many.
import type { SiteInfo, TraceRunView } from './modelTypes';

export interface WaitStats {
  /** Completed waits. */
  count: number;
  /** Sum, median, 95th percentile and longest completed wait, us. */
  total: number;
  p50: number;
  p95: number;
  max: number;
}

export interface SiteRef { file: string; line: number; func: string }

export interface SiteDelta {
  /** The site in the later run (else the earlier one, for a site gone). */
  site: SiteRef;
  /** Its line in the earlier run, when it moved. */
  lineBefore?: number;
  before?: WaitStats;
  after?: WaitStats;
  /** after.total - before.total, us (a site only on one side counts as all change). */
  change: number;
  /** after.total / before.total, when both are known and before.total > 0. */
  ratio?: number;
}

export interface TaskGroupStats {
  count: number;
  failed: number;
  cancelled: number;
  /** Sum of lifetimes (creation to end, or to the end of the run), us. */
  lifetime: number;
  /** Sum of running time, us. */
  running: number;
  /** Error types of the failed tasks, by count. */
  errors: Record<string, number>;
}

export type GroupChange = 'new' | 'gone' | 'changed' | 'same';

export interface TaskGroupDelta {
  /** Coroutine names from the root down to this group, e.g. ["main", "worker"]. */
  path: string[];
  coro: string;
  /** Creation site (in the later run when it exists there), or null. */
  site: SiteRef | null;
  before?: TaskGroupStats;
  after?: TaskGroupStats;
  change: GroupChange;
  /** Size of the change for ordering, us (lifetime difference; a new or gone group counts its whole lifetime). */
  magnitude: number;
}

export interface TimeoutDelta {
  site: SiteRef | null;
  before: { armed: number; fired: number };
  after: { armed: number; fired: number };
  change: 'nowFires' | 'noLongerFires' | 'firesMore' | 'firesLess' | 'same';
}

export interface RunSide { label: string; wall: number; tasks: number; steps: number; failed: number; cancelled: number }

export interface RunComparison {
  before: RunSide;
  after: RunSide;
  /** after.wall / before.wall - 1 (0.1 = 10 % slower); NaN when the earlier wall time is 0. */
  slower: number;
  /** Groups that are new, gone or changed, biggest first (unchanged groups are counted, not listed). */
  tasks: TaskGroupDelta[];
  unchangedGroups: number;
  /** Await sites, biggest change of total waiting first. */
  sites: SiteDelta[];
  /** Timeout sites, those whose firing changed first. */
  timeouts: TimeoutDelta[];
  /** Groups with more failures / cancellations than before (subsets of `tasks`). */
  newFailures: TaskGroupDelta[];
  newCancellations: TaskGroupDelta[];
}

/** A group's lifetime change counts as a change from this fraction and this many us. */
const CHANGE_FRACTION = 0.1;
const CHANGE_MIN_US = 1000;

/** The end of a run: its exit, else the latest time seen. */
export function wallTime(run: TraceRunView): number {
  return run.exit?.ts ?? run.now;
}

const siteRef = (s: SiteInfo): SiteRef => ({ file: s.file, line: s.line, func: s.func });

/**
 * Gives each site of both runs a token; sites that are the same place share it. First exact
 * (file, function, line); then, per (file, function), the still unmatched sites paired in line
 * order when both runs have the same number of them (the lines moved, the code did not).
 */
export function matchSites(a: ReadonlyMap<number, SiteInfo>, b: ReadonlyMap<number, SiteInfo>): { a: Map<number, string>; b: Map<number, string> } {
  const ta = new Map<number, string>();
  const tb = new Map<number, string>();
  const exact = (s: SiteInfo) => `${s.file}\0${s.func}\0${s.line}`;
  const byExactB = new Map<string, number>();
  for (const [id, s] of b) if (!byExactB.has(exact(s))) byExactB.set(exact(s), id);
  let next = 0;
  const usedB = new Set<number>();
  for (const [id, s] of a) {
    const k = exact(s);
    const idB = byExactB.get(k);
    const tok = `s${next++}`;
    ta.set(id, tok);
    if (idB !== undefined && !usedB.has(idB)) { tb.set(idB, tok); usedB.add(idB); }
  }
  // Same place named twice within one run (should not happen): same token.
  const restA = new Map<string, SiteInfo[]>();
  const restB = new Map<string, SiteInfo[]>();
  const fnKey = (s: SiteInfo) => `${s.file}\0${s.func}`;
  const matchedA = new Set(tb.values());
  for (const [id, s] of a) if (!matchedA.has(ta.get(id)!)) push(restA, fnKey(s), s);
  for (const [id, s] of b) if (!tb.has(id)) push(restB, fnKey(s), s);
  for (const [k, listB] of restB) {
    const listA = restA.get(k);
    // Equal numbers: a block of lines moved. Otherwise an await was added or removed: no guessing.
    if (listA && listA.length === listB.length) {
      listA.sort((x, y) => x.line - y.line);
      listB.sort((x, y) => x.line - y.line);
      for (let i = 0; i < listB.length; i++) tb.set(listB[i].id, ta.get(listA[i].id)!);
    }
  }
  for (const [id] of b) if (!tb.has(id)) tb.set(id, `s${next++}`);
  return { a: ta, b: tb };
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const l = m.get(k);
  if (l) l.push(v); else m.set(k, [v]);
}

interface Group { path: string[]; coro: string; site: SiteRef | null; stats: TaskGroupStats }

/**
 * Groups a run's tasks by their chain of (creation site token, coroutine) from the root. Keys are
 * interned (one short string per group, shared by both runs) so deep chains cost no long strings.
 */
function groupTasks(run: TraceRunView, siteTok: Map<number, string>, intern: Map<string, string>): Map<string, Group> {
  const groups = new Map<string, Group>();
  const keyOf = new Map<number, string>();
  const wall = wallTime(run);
  const key = (id: number): string => {
    const known = keyOf.get(id);
    if (known !== undefined) return known;
    // Walk up to the first ancestor with a key (iteratively: chains can be long), then down.
    const chain: number[] = [];
    const seen = new Set<number>();
    let cur: number | null = id;
    while (cur !== null && !keyOf.has(cur) && !seen.has(cur)) {
      seen.add(cur);
      chain.push(cur);
      const t = run.tasks.get(cur);
      cur = t?.parent ?? null;
      if (cur !== null && !run.tasks.has(cur)) cur = null;
    }
    let parentKey = cur !== null && keyOf.has(cur) ? keyOf.get(cur)! : '';
    for (let i = chain.length - 1; i >= 0; i--) {
      const t = run.tasks.get(chain[i])!;
      const raw = `${parentKey}/${t.site !== null ? siteTok.get(t.site) ?? '?' : '-'}|${t.coro}`;
      let k = intern.get(raw);
      if (k === undefined) intern.set(raw, (k = `g${intern.size}`));
      keyOf.set(chain[i], k);
      parentKey = k;
    }
    return keyOf.get(id)!;
  };
  for (const t of run.tasks.values()) {
    const k = key(t.id);
    let g = groups.get(k);
    if (!g) {
      const path: string[] = [];
      for (let p: number | null = t.id, n = 0; p !== null && n < 64; n++) {
        const pt = run.tasks.get(p);
        if (!pt) break;
        path.unshift(pt.coro);
        p = pt.parent;
      }
      const s = t.site !== null ? run.sites.get(t.site) : undefined;
      g = { path, coro: t.coro, site: s ? siteRef(s) : null, stats: { count: 0, failed: 0, cancelled: 0, lifetime: 0, running: 0, errors: {} } };
      groups.set(k, g);
    }
    const st = g.stats;
    st.count++;
    st.running += t.runTotal;
    st.lifetime += Math.max(0, (t.endTs ?? wall) - t.createdTs);
    if (t.endState === 'failed') {
      st.failed++;
      const type = t.error?.type ?? '?';
      st.errors[type] = (st.errors[type] ?? 0) + 1;
    } else if (t.endState === 'cancelled') st.cancelled++;
  }
  return groups;
}

/** Completed waits per await site (the innermost site of the await stack), from the step columns. */
function waitsBySite(run: TraceRunView): Map<number, Float64Array> {
  const cols = run.steps;
  const lists = new Map<number, number[]>();
  // Innermost site per await table entry, looked up once per entry rather than per step.
  const innermost: number[] = [];
  for (let i = 0; i < cols.count; i++) {
    const aid = cols.awaitId[i];
    if (aid < 0) continue;
    const end = cols.waitEnd[i];
    if (end !== end) continue; // ongoing at the end of the run
    let site = innermost[aid];
    if (site === undefined) {
      const st = run.awaitAt(aid)?.stack;
      innermost[aid] = site = st && st.length ? st[st.length - 1] : -1;
    }
    if (site < 0) continue;
    const from = cols.ts[i] + cols.dur[i];
    let l = lists.get(site);
    if (!l) lists.set(site, (l = []));
    l.push(end > from ? end - from : 0);
  }
  const out = new Map<number, Float64Array>();
  for (const [s, l] of lists) out.set(s, Float64Array.from(l).sort());
  return out;
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}

function waitStats(sorted: Float64Array): WaitStats {
  let total = 0;
  for (let i = 0; i < sorted.length; i++) total += sorted[i];
  return { count: sorted.length, total, p50: percentile(sorted, 0.5), p95: percentile(sorted, 0.95), max: sorted.length ? sorted[sorted.length - 1] : 0 };
}

function side(run: TraceRunView): RunSide {
  let failed = 0;
  let cancelled = 0;
  for (const t of run.tasks.values()) {
    if (t.endState === 'failed') failed++;
    else if (t.endState === 'cancelled') cancelled++;
  }
  return { label: run.label, wall: wallTime(run), tasks: run.tasks.size, steps: run.steps.count, failed, cancelled };
}

function groupChange(b: TaskGroupStats | undefined, a: TaskGroupStats | undefined): GroupChange {
  if (!b) return 'new';
  if (!a) return 'gone';
  if (a.count !== b.count || a.failed !== b.failed || a.cancelled !== b.cancelled) return 'changed';
  const d = Math.abs(a.lifetime - b.lifetime);
  return d >= CHANGE_MIN_US && d >= CHANGE_FRACTION * b.lifetime ? 'changed' : 'same';
}

/** Compares run `a` (before) with run `b` (after). */
export function compareRuns(a: TraceRunView, b: TraceRunView): RunComparison {
  const tok = matchSites(a.sites, b.sites);
  const intern = new Map<string, string>();
  const ga = groupTasks(a, tok.a, intern);
  const gb = groupTasks(b, tok.b, intern);

  const tasks: TaskGroupDelta[] = [];
  let unchangedGroups = 0;
  for (const k of new Set([...ga.keys(), ...gb.keys()])) {
    const x = ga.get(k);
    const y = gb.get(k);
    const change = groupChange(x?.stats, y?.stats);
    if (change === 'same') { unchangedGroups++; continue; }
    const g = (y ?? x)!;
    const magnitude = Math.abs((y?.stats.lifetime ?? 0) - (x?.stats.lifetime ?? 0))
      + (change === 'new' || change === 'gone' ? 1 : 0);
    tasks.push({ path: g.path, coro: g.coro, site: g.site, before: x?.stats, after: y?.stats, change, magnitude });
  }
  tasks.sort((p, q) => q.magnitude - p.magnitude);

  // Await sites.
  const wa = waitsBySite(a);
  const wb = waitsBySite(b);
  const byTok = new Map<string, { sa?: number; sb?: number }>();
  for (const s of wa.keys()) byTok.set(tok.a.get(s) ?? `a${s}`, { sa: s });
  for (const s of wb.keys()) {
    const k = tok.b.get(s) ?? `b${s}`;
    const e = byTok.get(k);
    if (e) e.sb = s; else byTok.set(k, { sb: s });
  }
  const sites: SiteDelta[] = [];
  for (const { sa, sb } of byTok.values()) {
    const before = sa !== undefined ? waitStats(wa.get(sa)!) : undefined;
    const after = sb !== undefined ? waitStats(wb.get(sb)!) : undefined;
    const infoB = sb !== undefined ? b.sites.get(sb) : undefined;
    const infoA = sa !== undefined ? a.sites.get(sa) : undefined;
    const info = infoB ?? infoA;
    if (!info) continue;
    const d: SiteDelta = { site: siteRef(info), change: (after?.total ?? 0) - (before?.total ?? 0) };
    if (before) d.before = before;
    if (after) d.after = after;
    if (infoA && infoB && infoA.line !== infoB.line) d.lineBefore = infoA.line;
    if (before && after && before.total > 0) d.ratio = after.total / before.total;
    sites.push(d);
  }
  sites.sort((p, q) => Math.abs(q.change) - Math.abs(p.change));

  // Timeouts, per arming site.
  const tmo = new Map<string, TimeoutDelta>();
  const addTimeouts = (run: TraceRunView, tokens: Map<number, string>, which: 'before' | 'after') => {
    for (const t of run.timeouts.values()) {
      const k = t.site !== null ? tokens.get(t.site) ?? `?${t.site}` : '-';
      let d = tmo.get(k);
      if (!d) tmo.set(k, (d = { site: null, before: { armed: 0, fired: 0 }, after: { armed: 0, fired: 0 }, change: 'same' }));
      const s = t.site !== null ? run.sites.get(t.site) : undefined;
      if (s && (which === 'after' || !d.site)) d.site = siteRef(s);
      d[which].armed++;
      if (t.state === 'fired') d[which].fired++;
    }
  };
  addTimeouts(a, tok.a, 'before');
  addTimeouts(b, tok.b, 'after');
  const timeouts = [...tmo.values()];
  for (const d of timeouts) {
    const x = d.before.fired;
    const y = d.after.fired;
    d.change = x === 0 && y > 0 ? 'nowFires' : x > 0 && y === 0 ? 'noLongerFires' : y > x ? 'firesMore' : y < x ? 'firesLess' : 'same';
  }
  const rank = { nowFires: 0, noLongerFires: 1, firesMore: 2, firesLess: 3, same: 4 } as const;
  timeouts.sort((p, q) => rank[p.change] - rank[q.change] || Math.abs(q.after.fired - q.before.fired) - Math.abs(p.after.fired - p.before.fired));

  const before = side(a);
  const after = side(b);
  return {
    before, after,
    slower: before.wall > 0 ? after.wall / before.wall - 1 : NaN,
    tasks, unchangedGroups, sites, timeouts,
    newFailures: tasks.filter((g) => (g.after?.failed ?? 0) > (g.before?.failed ?? 0)),
    newCancellations: tasks.filter((g) => (g.after?.cancelled ?? 0) > (g.before?.cancelled ?? 0)),
  };
}

/** "-66 %", "+12 %", "±0 %" for a ratio after/before. */
export function percentText(ratio: number | undefined): string {
  if (ratio === undefined || !Number.isFinite(ratio)) return '';
  const p = Math.round((ratio - 1) * 100);
  return p === 0 ? '\u00b10 %' : `${p > 0 ? '+' : '\u2212'}${Math.abs(p)} %`;
}

/** Parses "10%", "10 %", "0.1" (a fraction) or "10" (percent) into a fraction; undefined when invalid. */
export function parseThreshold(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(%?)\s*$/.exec(text);
  if (!m) return undefined;
  const v = Number(m[1]);
  return m[2] || v >= 1 ? v / 100 : v;
}
