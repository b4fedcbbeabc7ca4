// Lane order of the timeline: tasks nested under their creator (like the tree), children in creation
// order, collapsed groups hiding their descendants. Pure and iterative (chains can be 100,000 deep).

export interface LayoutTask {
  id: number;
  /** Creator id, or -1/null for none. A parent that is not in the input makes the task a root. */
  parent: number | null;
  created: number;
}

export interface GanttRows {
  count: number;
  /** Task id per visible row, top to bottom (Float64: ids of child processes and process groups pass 2^31). */
  ids: Float64Array;
  /** Nesting depth per row (0 = root). */
  depth: Int32Array;
  /** 1 if the row's task has children (shown with a twistie). */
  hasChildren: Uint8Array;
  /** Row index of a task id, for visible tasks only. */
  rowOf: Map<number, number>;
}

/** Children lists by parent id, sorted by (created, id). Roots under key -1. */
export function childrenIndex(tasks: readonly LayoutTask[]): Map<number, number[]> {
  const known = new Set<number>();
  for (const t of tasks) known.add(t.id);
  // Tasks usually arrive in creation order: skip the sort when they already are.
  let inOrder = true;
  for (let i = 1; i < tasks.length && inOrder; i++) {
    const a = tasks[i - 1], b = tasks[i];
    inOrder = a.created < b.created || (a.created === b.created && a.id < b.id);
  }
  const sorted = inOrder ? tasks : tasks.slice().sort((a, b) => a.created - b.created || a.id - b.id);
  const children = new Map<number, number[]>();
  for (const t of sorted) {
    const p = t.parent !== null && t.parent >= 0 && t.parent !== t.id && known.has(t.parent) ? t.parent : -1;
    let list = children.get(p);
    if (!list) children.set(p, (list = []));
    list.push(t.id);
  }
  return children;
}

/**
 * Visible rows in depth-first order. `collapsed`: ids whose descendants are hidden.
 * Tasks caught in a parent cycle (corrupt trace) are appended as roots so none is lost.
 */
export function layoutRows(tasks: readonly LayoutTask[], collapsed: ReadonlySet<number>, index?: Map<number, number[]>): GanttRows {
  const children = index ?? childrenIndex(tasks);
  const n = tasks.length;
  const ids = new Float64Array(n);
  const depth = new Int32Array(n);
  const hasChildren = new Uint8Array(n);
  const rowOf = new Map<number, number>();
  const placed = new Set<number>();
  let count = 0;

  const walk = (rootList: readonly number[]): void => {
    // Explicit stack of (list, position, depth) frames instead of recursion.
    const lists: (readonly number[])[] = [rootList];
    const pos: number[] = [0];
    while (lists.length) {
      const top = lists.length - 1;
      const list = lists[top];
      if (pos[top] >= list.length) { lists.pop(); pos.pop(); continue; }
      const id = list[pos[top]++];
      if (placed.has(id)) continue;
      placed.add(id);
      const kids = children.get(id);
      ids[count] = id;
      depth[count] = top;
      hasChildren[count] = kids && kids.length ? 1 : 0;
      rowOf.set(id, count);
      count++;
      if (kids && kids.length && !collapsed.has(id)) { lists.push(kids); pos.push(0); }
    }
  };

  const roots = children.get(-1) ?? [];
  walk(roots);
  if (placed.size < n) {
    // Either hidden under collapsed groups or caught in a parent cycle (corrupt trace): find the
    // latter by reachability from the roots, and show them as roots so none is lost.
    const reached = new Set<number>();
    const stack = roots.slice();
    while (stack.length) {
      const id = stack.pop()!;
      if (reached.has(id)) continue;
      reached.add(id);
      const kids = children.get(id);
      if (kids) for (const k of kids) stack.push(k);
    }
    if (reached.size < n) {
      const rest: number[] = [];
      for (const t of tasks) if (!reached.has(t.id) && !placed.has(t.id)) rest.push(t.id);
      walk(rest);
    }
  }
  return { count, ids, depth, hasChildren, rowOf };
}

/** Ancestors of a task, nearest first (stops at a cycle). */
export function ancestors(parentOf: (id: number) => number | null | undefined, id: number): number[] {
  const out: number[] = [];
  const seen = new Set<number>([id]);
  let p = parentOf(id);
  while (p !== null && p !== undefined && p >= 0 && !seen.has(p)) {
    out.push(p);
    seen.add(p);
    p = parentOf(p);
  }
  return out;
}

/** Axis ticks: a 1-2-5 step (us) leaving at least `minPx` pixels between ticks, and the tick times in [t0, t1]. */
export function timeTicks(t0: number, t1: number, widthPx: number, minPx = 90): { step: number; ticks: number[] } {
  const span = Math.max(t1 - t0, 1e-6);
  const raw = (span * minPx) / Math.max(widthPx, 1);
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  let step = mag;
  for (const m of [1, 2, 5, 10]) {
    step = m * mag;
    if (step >= raw) break;
  }
  const ticks: number[] = [];
  const first = Math.ceil(t0 / step) * step;
  for (let t = first, i = 0; t <= t1 && i < 1000; i++, t = first + i * step) ticks.push(t);
  return { step, ticks };
}

/** A time on the axis, in the unit that suits the tick step: "250 µs", "1.5 ms", "12 s", "2 min 5 s". */
export function formatTick(us: number, step: number): string {
  if (step < 100) return `${us.toFixed(decimals(step))} \u00b5s`;
  if (step < 100_000) return `${(us / 1000).toFixed(decimals(step / 1000))} ms`;
  if (step < 60_000_000 || us < 60_000_000) return `${(us / 1_000_000).toFixed(decimals(step / 1_000_000))} s`;
  const s = Math.round(us / 1_000_000);
  return `${Math.floor(s / 60)} min ${s % 60} s`;
}

/** A point in time with enough digits for `resolutionUs` (cursor readout, tooltips): "850 µs", "12.345 ms", "1.235 s". */
export function formatTime(us: number, resolutionUs = 1): string {
  const a = Math.abs(us);
  const r = Math.max(resolutionUs, 1e-3);
  if (a < 1000) return `${us.toFixed(Math.min(3, decimals(r)))} \u00b5s`;
  if (a < 1_000_000) return `${(us / 1000).toFixed(Math.min(3, decimals(r / 1000)))} ms`;
  if (a < 60_000_000) return `${(us / 1_000_000).toFixed(Math.min(6, decimals(r / 1_000_000)))} s`;
  const s = Math.round(us / 1_000_000);
  return `${Math.floor(s / 60)} min ${s % 60} s`;
}

/** Digits after the point needed to write `step` (1-2-5 steps: 0.25 -> 2, 0.5 -> 1, 20 -> 0). */
function decimals(step: number): number {
  let d = 0;
  let v = step;
  while (d < 6 && Math.abs(Math.round(v) - v) > 1e-6 * Math.max(1, Math.abs(v))) { d++; v *= 10; }
  return d;
}
