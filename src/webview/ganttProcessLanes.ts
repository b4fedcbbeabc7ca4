// The process group lanes of a run with child processes: the row of each process (its name, how long
// it ran and how it ended, a band over its life on the run's clock), its hover, and what tests read.
import type { GanttStats } from '../core/ganttProtocol';
import type { GanttRows } from '../core/ganttLayout';
import { ctx } from './ganttDom';
import { requestDraw } from './ganttDraw';
import { P } from './ganttPalette';
import { store, ROW_H, bodyTop, view, xOf } from './ganttView';
import type { Hit } from './ganttHitTest';

/** The codicon `server-process` (the tree's process icon), drawn with the codicon font the page loads. */
const PROCESS_GLYPH = '\ueba2';
let glyphFontAsked = false;

function groupColour(idx: number): string {
  const es = store.endState[idx];
  return es === 3 ? P.failed : es === 1 ? P.done : P.running;
}

/** A process's lane: a band from its start to its end (or now), its start and end marked. */
export function drawGroupLane(idx: number, y: number, tL: number, tR: number): void {
  const a = store.created[idx], b = store.laneEnd(idx);
  if (b < tL || a > tR) return;
  const xa = Math.max(xOf(a), view.labelW - 2), xb = Math.min(xOf(b), view.width + 2);
  const mid = y + ROW_H / 2;
  ctx.globalAlpha = 0.22;
  ctx.fillStyle = groupColour(idx);
  ctx.fillRect(xa, y + 3, Math.max(1, xb - xa), ROW_H - 6);
  ctx.globalAlpha = 1;
  ctx.fillStyle = P.lane;
  ctx.fillRect(xa, y + 3, Math.max(1, xb - xa), 1);
  ctx.fillRect(xa, y + ROW_H - 4, Math.max(1, xb - xa), 1);
  if (a >= tL) { ctx.fillStyle = P.fg; ctx.fillRect(xOf(a), y + 3, 1.5, ROW_H - 6); }
  const e = store.end[idx];
  if (!Number.isNaN(e) && e <= tR) {
    ctx.fillStyle = groupColour(idx);
    ctx.beginPath(); ctx.arc(xOf(e), mid, 4, 0, Math.PI * 2); ctx.fill();
  }
  view.slicesDrawn++;
}

/** The process icon in the label column, coloured by how the process ended. */
export function drawGroupGlyph(idx: number, x: number, y: number): void {
  if (!glyphFontAsked) {
    glyphFontAsked = true;
    // The first frames may come before the codicon font is ready: draw again once it is.
    void document.fonts?.load('14px codicon').then(() => requestDraw(), () => undefined);
  }
  ctx.save();
  ctx.font = '14px codicon';
  ctx.textAlign = 'center';
  ctx.fillStyle = store.endState[idx] === 3 ? P.failed : store.endState[idx] === 1 ? P.done : P.muted;
  ctx.fillText(PROCESS_GLYPH, x, y + ROW_H / 2 + 1);
  ctx.restore();
}

/** Hover of a process's row (its name or its band): what the tree's tooltip says. */
export function hitGroup(row: number, id: number, x: number): Hit {
  const g = store.groups.get(id)!;
  const idx = store.index.get(id)!;
  return {
    row, task: id, kind: x < view.labelW ? 'label' : 'run', start: store.created[idx], end: store.laneEnd(idx), site: -1,
    lines: g.tooltip.slice(), targets: [],
  };
}

/** How many lanes a group row has below it, down to the next group (its tasks when open, 0 collapsed). */
function lanesUnder(rows: GanttRows, row: number): number {
  let n = 0;
  for (let r = row + 1; r < rows.count && rows.depth[r] > 0; r++) n++;
  return n;
}

export function groupStats(rows: GanttRows | undefined): GanttStats['processGroups'] {
  if (!rows || store.groups.size === 0) return undefined;
  const out: NonNullable<GanttStats['processGroups']> = [];
  for (const g of store.groups.values()) {
    const row = rows.rowOf.get(g.id);
    const y = row === undefined ? null : bodyTop() + row * ROW_H - view.scrollTop + ROW_H / 2;
    out.push({
      id: g.id, label: g.label, description: g.description, collapsed: store.collapsed.has(g.id),
      y: y !== null && y >= bodyTop() && y <= view.height ? y : null, lanesUnder: row === undefined ? 0 : lanesUnder(rows, row),
    });
  }
  return out;
}
