// Lines the extension computes for the hover of a task's name (its time split: running, ready behind
// whom, waiting on what), asked for on first hover and cached until the run changes.
import { hitTest, showTooltip } from './ganttHitTest';
import { store, vscode, view } from './ganttView';

const cache = new Map<number, string[]>();
const asked = new Set<number>();
let cachedFor = '';

/** The lines for task `id`, or undefined while they are being computed (asked for once). */
export function taskDetailLines(id: number): string[] | undefined {
  // A live run's split changes as it runs: drop what was computed before new data arrived.
  const version = `${store.runKey}:${store.taskVersion}:${store.n}`;
  if (cachedFor !== version) { cache.clear(); asked.clear(); cachedFor = version; }
  const lines = cache.get(id);
  if (lines) return lines;
  if (!asked.has(id)) { asked.add(id); vscode.postMessage({ type: 'taskDetails', taskId: id }); }
  return undefined;
}

export function setTaskDetails(id: number, lines: string[]): void {
  if (!asked.has(id)) return; // asked before the run changed
  cache.set(id, lines);
  // Still hovering that name: show the tooltip again with them.
  if (view.hover?.task === id && view.hover.kind === 'label' && view.mouse) {
    const h = hitTest(view.mouse.x, view.mouse.y);
    view.hover = h;
    showTooltip(h, view.mouse.x, view.mouse.y);
  }
}

export function clearTaskDetails(): void {
  cache.clear();
  asked.clear();
}
