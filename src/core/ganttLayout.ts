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
  /** Task id per visible row, top to bottom. */
  ids: Int32Array;
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
  const sorted = tasks.slice().sort((a, b) => a.created - b.created || a.id - b.id);
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
  const ids = new Int32Array(n);
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
