// The "Tasks" tree: runs, their tasks nested by creator, and per-task detail rows (await sites,
// timeouts, cancellations, errors, blocking steps). Live runs refresh on a throttle, only the rows
// that changed; TreeItems and element objects are cached by id so a 10,000-task run stays cheap.
import * as vscode from 'vscode';
import type { TaskInfo, TraceRunView } from '../core/modelTypes';
import {
  BlockIndex, PAGE_SIZE, RefreshPlanner, STATUS_ICONS, limitToShow, pageOf, programLabel, runDescription,
  runTooltipRows, describeFilter, taskDescription, taskDetails, taskName, taskHasContent, taskTooltipRows, treeParent, visibleChildren,
  type DetailRow, type IconSpec, type Localize,
} from '../core/taskTreeModel';
import { hasChildProcesses, processDescription, processLabel, processOf, processTooltipRows, processesInOrder } from '../core/processText';
import { isFilterActive, taskMatches, visibleTaskIds as visibleTasks, type TaskFilter as TreeFilter, type TaskStateFilter } from '../core/taskFilter';
import { timeSplitRows } from '../core/timeSplitText';
import { contributeTestState } from './testHooks';
import { markdownText } from './untrustedMarkdown';
import type { TraceRuns } from './traceRuns';

const t: Localize = (message, ...args) => vscode.l10n.t(message, ...args);

// Every element carries `runKey` (and `taskId` where it has one): the shape menu commands accept.
export interface RunNode { kind: 'run'; id: string; run: TraceRunView; runKey: string }
export interface TaskNode { kind: 'task'; id: string; run: TraceRunView; runKey: string; taskId: number }
export interface DetailNode { kind: 'detail'; id: string; run: TraceRunView; runKey: string; taskId: number; row: DetailRow }
/** A process of a run that recorded child processes (the run's rows are then its processes). */
export interface ProcessNode { kind: 'process'; id: string; run: TraceRunView; runKey: string; process: number }
export interface MoreNode { kind: 'more'; id: string; run: TraceRunView; runKey: string; parent: RunNode | TaskNode | ProcessNode; hidden: number }
export type TreeNode = RunNode | ProcessNode | TaskNode | DetailNode | MoreNode;

/** Root tasks start expanded when the run is this small (the common "read my example" case). */
const EXPAND_ROOTS_UP_TO = 50;
/** A live run's own row (its duration) refreshes at most this often when nothing else changed. */
const RUN_ROW_REFRESH_MS = 1000;

/** Everything the tree keeps per run: stable element objects, cached items, paging, live state. */
class RunState {
  readonly node: RunNode;
  readonly tasks = new Map<number, TaskNode>();
  readonly details = new Map<string, DetailNode>();
  readonly more = new Map<string, MoreNode>();
  readonly processNodes = new Map<number, ProcessNode>();
  readonly items = new Map<string, vscode.TreeItem>();
  /** Shown children per parent node id (grows by PAGE_SIZE through "… N more"). */
  readonly limits = new Map<string, number>();
  readonly blocks = new BlockIndex();
  readonly planner = new RefreshPlanner();
  visible: Set<number> | undefined;
  lastRunRowRefresh = 0;
  /** Whether the run was live at the last flush (its end redraws every row it shows). */
  wasLive: boolean;

  constructor(readonly run: TraceRunView) {
    this.node = { kind: 'run', id: `run:${run.key}`, run, runKey: run.key };
    this.blocks.update(run);
    this.wasLive = run.live;
  }

  taskNode(taskId: number): TaskNode {
    let n = this.tasks.get(taskId);
    if (!n) this.tasks.set(taskId, (n = { kind: 'task', id: `${this.node.id}/task:${taskId}`, run: this.run, runKey: this.run.key, taskId }));
    return n;
  }

  processNode(key: number): ProcessNode {
    let n = this.processNodes.get(key);
    if (!n) this.processNodes.set(key, (n = { kind: 'process', id: `${this.node.id}/process:${key}`, run: this.run, runKey: this.run.key, process: key }));
    return n;
  }

  parentNode(taskId: number): RunNode | TaskNode | ProcessNode {
    const p = treeParent(this.run, taskId);
    if (p !== null) return this.taskNode(p);
    const task = this.run.tasks.get(taskId);
    return hasChildProcesses(this.run) && task ? this.processNode(processOf(task)) : this.node;
  }

  /** Cached rows of the process nodes (their durations and exit codes change with the run). */
  forgetProcessRows(): void {
    for (const n of this.processNodes.values()) this.items.delete(n.id);
  }

  limit(parent: RunNode | TaskNode | ProcessNode): number { return this.limits.get(parent.id) ?? PAGE_SIZE; }
}

export class TaskTreeProvider implements vscode.TreeDataProvider<TreeNode>, vscode.Disposable {
  private readonly changeEmitter = new vscode.EventEmitter<TreeNode | TreeNode[] | undefined>();
  readonly onDidChangeTreeData = this.changeEmitter.event;
  private readonly states = new Map<TraceRunView, RunState>();
  private filterValue: TreeFilter | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;

  /** Stuck tasks of a run (from the stuck-task Problems), shown as a "stuck" state. */
  private stuckOf: ((run: TraceRunView, taskId: number) => boolean) | undefined;

  constructor(private readonly runs: TraceRuns) {}

  /** Where the tree learns which tasks are stuck; call stuckChanged when that changes. */
  setStuckSource(stuckOf: (run: TraceRunView, taskId: number) => boolean): void { this.stuckOf = stuckOf; }

  stuckChanged(run: TraceRunView): void {
    const s = this.states.get(run);
    if (!s) return;
    s.items.clear();
    this.changeEmitter.fire(undefined);
  }

  get filter(): TreeFilter | undefined { return this.filterValue; }

  setFilter(filter: TreeFilter | undefined): void {
    this.filterValue = filter && isFilterActive(filter) ? filter : undefined;
    for (const s of this.states.values()) {
      s.visible = this.filterValue ? visibleTasks(s.run, this.filterValue) : undefined;
      s.items.clear();
    }
    this.changeEmitter.fire(undefined);
  }

  /** Tasks matching the filter, and all tasks, over all runs (for the view's message). */
  filterCounts(): { matching: number; total: number } {
    let matching = 0;
    let total = 0;
    for (const run of this.runs.runs) {
      const s = this.state(run);
      total += run.tasks.size;
      if (!s.visible || !this.filterValue) { matching += run.tasks.size; continue; }
      for (const id of s.visible) {
        const task = run.tasks.get(id);
        if (task && taskMatches(run, task, this.filterValue)) matching++;
      }
    }
    return { matching, total };
  }

  state(run: TraceRunView): RunState {
    let s = this.states.get(run);
    if (!s) {
      s = new RunState(run);
      if (this.filterValue) s.visible = visibleTasks(run, this.filterValue);
      this.states.set(run, s);
    }
    return s;
  }

  /** Redraws every row from the model (drops every cached row). */
  refreshAll(): void {
    for (const s of this.states.values()) s.items.clear();
    this.changeEmitter.fire(undefined);
  }

  /** Runs were added/removed/selected: forget removed runs, redraw the roots. */
  runsChanged(): void {
    const live = new Set(this.runs.runs);
    for (const run of [...this.states.keys()]) if (!live.has(run)) this.states.delete(run);
    // The selected run's row is drawn expanded; drop cached run rows so the state is recomputed.
    for (const s of this.states.values()) s.items.delete(s.node.id);
    this.changeEmitter.fire(undefined);
  }

  runUpdated(run: TraceRunView, delta: Parameters<RefreshPlanner['add']>[0]): void {
    if (!this.runs.runs.includes(run)) return;
    const also: number[] = [];
    for (const id of delta.changedTimeouts) {
      const to = run.timeouts.get(id);
      if (to) also.push(to.task, ...to.cancelled);
    }
    for (let i = Math.max(0, run.cancels.length - delta.newCancels); i < run.cancels.length; i++) also.push(run.cancels[i].task);
    this.state(run).planner.add(delta, also);
    if (this.timer) return;
    const ms = vscode.workspace.getConfiguration('asyncTrace').get<number>('liveUpdateIntervalMs', 250);
    this.timer = setTimeout(() => { this.timer = undefined; this.flush(); }, Math.max(50, ms));
  }

  /** Applies the accumulated changes of every run: invalidates their items, fires the smallest refresh. */
  flush(): void {
    const fire: TreeNode[] = [];
    const now = Date.now();
    let all = false;
    for (const s of this.states.values()) {
      if (s.wasLive && !s.run.live) {
        // The run just ended: every row it shows (alive tasks' growing lifetimes, "waiting now")
        // is redrawn from the final model, in one full refresh, whatever was batched before.
        s.wasLive = false;
        s.planner.take((id) => treeParent(s.run, id));
        s.blocks.update(s.run);
        s.items.clear();
        all = true;
        continue;
      }
      const touched = s.blocks.update(s.run);
      const dueRunRow = s.run.live && now - s.lastRunRowRefresh >= RUN_ROW_REFRESH_MS;
      if (!s.planner.pending && touched.length === 0 && !dueRunRow) continue;
      const plan = s.planner.take((id) => treeParent(s.run, id));
      for (const id of [...plan.changed, ...touched]) s.items.delete(s.taskNode(id).id);
      s.items.delete(s.node.id);
      s.forgetProcessRows();
      if (s.visible && this.filterValue) {
        // Which tasks match may change with any event: re-filter and redraw this run.
        s.visible = visibleTasks(s.run, this.filterValue);
        s.items.clear();
        fire.push(s.node);
      } else if (plan.run || dueRunRow) {
        // The run row's duration and alive tasks' lifetimes grow with time: rebuild the rows drawn.
        if (dueRunRow) s.items.clear();
        fire.push(s.node);
        for (const id of plan.tasks) fire.push(s.taskNode(id));
      } else {
        for (const id of new Set([...plan.tasks, ...touched])) fire.push(s.taskNode(id));
      }
      if (fire.includes(s.node)) s.lastRunRowRefresh = now;
    }
    if (all) this.changeEmitter.fire(undefined);
    else if (fire.length) this.changeEmitter.fire(fire);
    if ((all || fire.length) && this.filterValue) this.afterFilteredRefresh?.();
  }

  /** Called after a live refresh while a filter is active (the match counts changed). */
  afterFilteredRefresh: (() => void) | undefined;

  // ---- TreeDataProvider ----

  getChildren(node?: TreeNode): TreeNode[] {
    if (!node) return [...this.runs.runs].reverse().map((r) => this.state(r).node); // newest first
    const s = this.state(node.run);
    if (node.kind === 'run') {
      if (hasChildProcesses(node.run)) return processesInOrder(node.run).map((p) => s.processNode(p.key));
      return this.taskChildren(s, node, null);
    }
    if (node.kind === 'process') return this.taskChildren(s, node, null, node.process);
    if (node.kind === 'task') {
      const task = node.run.tasks.get(node.taskId);
      if (!task) return [];
      const rows = taskDetails(node.run, task, s.blocks.of(task.id), t).map((row) => {
        const id = `${node.id}/${row.key}`;
        let d = s.details.get(id);
        if (!d) s.details.set(id, (d = { kind: 'detail', id, run: node.run, runKey: node.runKey, taskId: task.id, row }));
        d.row = row;
        return d;
      });
      return [...this.taskChildren(s, node, task.id), ...rows];
    }
    return [];
  }

  private taskChildren(s: RunState, parent: RunNode | TaskNode | ProcessNode, parentTask: number | null, process?: number): TreeNode[] {
    let ids = visibleChildren(s.run, parentTask, s.visible);
    if (process !== undefined) ids = ids.filter((id) => { const task = s.run.tasks.get(id); return task !== undefined && processOf(task) === process; });
    const { shown, hidden } = pageOf(ids, s.limit(parent));
    const out: TreeNode[] = shown.map((id) => s.taskNode(id));
    if (hidden > 0) {
      const id = `${parent.id}/more`;
      let m = s.more.get(id);
      if (!m) s.more.set(id, (m = { kind: 'more', id, run: s.run, runKey: s.run.key, parent, hidden }));
      m.hidden = hidden;
      s.items.delete(id);
      out.push(m);
    }
    return out;
  }

  getParent(node: TreeNode): TreeNode | undefined {
    if (node.kind === 'run') return undefined;
    const s = this.state(node.run);
    if (node.kind === 'task') return s.parentNode(node.taskId);
    if (node.kind === 'process') return s.node;
    if (node.kind === 'detail') return s.taskNode(node.taskId);
    return node.parent;
  }

  getTreeItem(node: TreeNode): vscode.TreeItem {
    if (node.kind === 'detail') return this.detailItem(node);
    const s = this.state(node.run);
    const cached = s.items.get(node.id);
    if (cached) return cached;
    const item = node.kind === 'run' ? this.runItem(s) : node.kind === 'task' ? this.taskItem(s, node)
      : node.kind === 'process' ? this.processItem(s, node) : this.moreItem(node);
    s.items.set(node.id, item);
    return item;
  }

  /** Tooltips are built on hover only: a page of rows must not pay for a Markdown tooltip each. */
  resolveTreeItem(item: vscode.TreeItem, node: TreeNode): vscode.TreeItem {
    if (node.kind === 'run') {
      const sourcePath = (node.run as { sourcePath?: string }).sourcePath;
      item.tooltip = tooltip(programLabel(node.run), runTooltipRows(node.run, t, sourcePath));
    } else if (node.kind === 'task') {
      const task = node.run.tasks.get(node.taskId);
      // With where its time went: running, ready behind whom, waiting on what.
      if (task) item.tooltip = tooltip(taskName(node.run, task.id), [...taskTooltipRows(node.run, task, t), ...timeSplitRows(node.run, task, t)]);
    } else if (node.kind === 'process') {
      const p = node.run.processes?.get(node.process);
      if (p) item.tooltip = tooltip(processLabel(p, t), processTooltipRows(node.run, p, t));
    }
    return item;
  }

  private processItem(s: RunState, node: ProcessNode): vscode.TreeItem {
    const p = s.run.processes?.get(node.process);
    if (!p) return new vscode.TreeItem(`#${node.process}`);
    // A process seen live before its first task: no twistie, and another row id, so that the row with
    // tasks is a new row the workbench fetches (it does not fetch again the children of a row first
    // drawn expanded with none, even when its parent is refreshed).
    const hasTasks = visibleChildren(s.run, null, s.visible).some((id) => { const task = s.run.tasks.get(id); return task !== undefined && processOf(task) === node.process; });
    const item = new vscode.TreeItem(processLabel(p, t), hasTasks ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.None);
    item.id = hasTasks ? node.id : `${node.id}/no-tasks-yet`;
    item.description = processDescription(s.run, p, t);
    item.contextValue = 'process';
    item.iconPath = p.exitCode === undefined ? themeIcon(p.live && s.run.live ? { icon: 'sync~spin', color: 'asyncTrace.running' } : { icon: 'debug-disconnect', color: 'asyncTrace.cancelled' })
      : p.exitCode === 0 ? themeIcon({ icon: 'server-process', color: 'asyncTrace.done' })
        : themeIcon({ icon: 'server-process', color: 'asyncTrace.failed' });
    return item;
  }

  private runItem(s: RunState): vscode.TreeItem {
    const run = s.run;
    const selected = this.runs.selected === run;
    const item = new vscode.TreeItem(programLabel(run),
      selected ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.Collapsed);
    item.id = s.node.id;
    item.description = runDescription(run, t, (iso) => {
      const d = new Date(iso);
      return Number.isNaN(d.getTime()) ? iso : d.toLocaleTimeString();
    });
    item.contextValue = run.live ? 'run.live' : 'run';
    item.iconPath = run.live ? themeIcon({ icon: 'sync~spin', color: 'asyncTrace.running' })
      : !run.exit ? themeIcon({ icon: 'debug-disconnect', color: 'asyncTrace.cancelled' })
        : run.exit.code === 0 ? themeIcon({ icon: 'pass-filled', color: 'asyncTrace.done' })
          : themeIcon({ icon: 'error', color: 'asyncTrace.failed' });
    return item;
  }

  private taskItem(s: RunState, node: TaskNode): vscode.TreeItem {
    const run = s.run;
    const task = run.tasks.get(node.taskId);
    if (!task) return new vscode.TreeItem(`#${node.taskId}`);
    const blocks = s.blocks.of(task.id).length;
    const expandable = taskHasContent(task, blocks);
    const state = !expandable ? vscode.TreeItemCollapsibleState.None
      : task.parent === null && run.tasks.size <= EXPAND_ROOTS_UP_TO ? vscode.TreeItemCollapsibleState.Expanded
        : vscode.TreeItemCollapsibleState.Collapsed;
    const item = new vscode.TreeItem(taskName(run, task.id), state);
    item.id = node.id;
    item.description = taskDescription(run, task, t);
    item.iconPath = themeIcon(STATUS_ICONS[task.status] ?? { icon: 'circle-outline' });
    item.contextValue = `task.${task.status}`;
    if (this.stuckOf?.(run, task.id)) {
      item.description = `${t('stuck')} · ${item.description}`;
      item.iconPath = themeIcon({ icon: 'warning', color: 'problemsWarningIcon.foreground' });
      item.contextValue = 'task.stuck';
    }
    if (task.site !== null) item.command = openSiteCommand(run, task.site, t('Open Creation Site'));
    return item;
  }

  private detailItem(node: DetailNode): vscode.TreeItem {
    const row = node.row;
    const item = new vscode.TreeItem(row.label, vscode.TreeItemCollapsibleState.None);
    item.id = node.id;
    item.description = row.description;
    item.iconPath = themeIcon(row.icon);
    item.contextValue = `detail.${row.kind}`;
    if (row.tooltip.length) {
      const md = new vscode.MarkdownString();
      row.tooltip.forEach((line, i) => { if (i) md.appendMarkdown('  \n'); md.appendMarkdown(markdownText(line)); });
      item.tooltip = md;
    }
    if (row.site !== undefined) item.command = openSiteCommand(node.run, row.site, t('Open Source Location'));
    return item;
  }

  private moreItem(node: MoreNode): vscode.TreeItem {
    const item = new vscode.TreeItem(t('\u2026 {0} more', node.hidden), vscode.TreeItemCollapsibleState.None);
    item.id = node.id;
    item.description = t('click to show {0} more', Math.min(PAGE_SIZE, node.hidden));
    item.iconPath = new vscode.ThemeIcon('ellipsis');
    item.contextValue = 'more';
    item.command = { command: 'asyncTrace.tree.showMore', title: t('Show More'), arguments: [node.id] };
    return item;
  }

  /** "… N more" was clicked: show the next page under its parent. */
  showMore(moreId: string): void {
    for (const s of this.states.values()) {
      const m = s.more.get(moreId);
      if (!m) continue;
      s.limits.set(m.parent.id, s.limit(m.parent) + PAGE_SIZE);
      s.items.delete(m.parent.id);
      this.changeEmitter.fire(m.parent);
      return;
    }
  }

  /**
   * The element for a task, after growing the pages of its ancestors so that it is listed.
   * Undefined when the task is unknown or hidden by the filter.
   */
  nodeForReveal(run: TraceRunView, taskId: number): TaskNode | undefined {
    if (!run.tasks.has(taskId) || !this.runs.runs.includes(run)) return undefined;
    const s = this.state(run);
    if (s.visible && !s.visible.has(taskId)) return undefined;
    const grown: TreeNode[] = [];
    for (let id: number | null = taskId; id !== null; id = treeParent(run, id)) {
      const parent = s.parentNode(id);
      const ids = visibleChildren(run, treeParent(run, id), s.visible);
      const index = ids.indexOf(id);
      const limit = s.limit(parent);
      if (index >= limit) {
        s.limits.set(parent.id, limitToShow(index, limit));
        s.items.delete(parent.id);
        grown.push(parent);
      }
    }
    if (grown.length) this.changeEmitter.fire(grown);
    return s.taskNode(taskId);
  }

  /** The row of a process of a run that is grouped by process; undefined when it is not (one process) or has no such process. */
  nodeForProcess(run: TraceRunView, key: number): ProcessNode | undefined {
    if (!this.runs.runs.includes(run) || !hasChildProcesses(run) || !run.processes?.has(key)) return undefined;
    return this.state(run).processNode(key);
  }

  /** A plain picture of what the tree lists (expanded or not), for end-to-end tests. */
  snapshot(maxTasks = 200): unknown {
    let budget = maxTasks;
    const dumpTask = (run: TraceRunView, s: RunState, id: number): unknown => {
      budget--;
      const task = run.tasks.get(id) as TaskInfo;
      const children = budget > 0 ? visibleChildren(run, id, s.visible).slice(0, budget).map((c) => dumpTask(run, s, c)) : [];
      return {
        id, name: task.name, description: taskDescription(run, task, t), status: task.status,
        details: taskDetails(run, task, s.blocks.of(id), t).map((r) => ({ label: r.label, description: r.description, site: r.site })),
        children,
      };
    };
    return {
      filter: this.filterValue ?? null,
      runs: this.getChildren().map((n) => {
        const s = this.state(n.run);
        return {
          key: n.run.key, label: programLabel(n.run),
          description: (this.getTreeItem(n).description as string) ?? '',
          tasks: visibleChildren(n.run, null, s.visible).slice(0, Math.max(0, budget)).map((id) => dumpTask(n.run, s, id)),
          processes: hasChildProcesses(n.run) ? this.getChildren(n).map((pn) => ({
            label: String(this.getTreeItem(pn).label ?? ''),
            description: (this.getTreeItem(pn).description as string) ?? '',
            tasks: pn.kind === 'process' ? this.getChildren(pn).filter((c) => c.kind === 'task').map((c) => (c as TaskNode).taskId) : [],
          })) : [],
        };
      }),
    };
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.changeEmitter.dispose();
  }
}

function themeIcon(spec: IconSpec): vscode.ThemeIcon {
  return new vscode.ThemeIcon(spec.icon, spec.color ? new vscode.ThemeColor(spec.color) : undefined);
}

function openSiteCommand(run: TraceRunView, site: number, title: string): vscode.Command {
  // Like the Explorer: a click previews the source and leaves focus in the tree for the next row.
  return { command: 'asyncTrace.openSite', title, arguments: [run.key, site, { preserveFocus: true }] };
}

/** A Markdown tooltip whose every value is escaped (program names, messages and paths are untrusted). */
function tooltip(title: string, rows: Array<[string, string]>): vscode.MarkdownString {
  const md = new vscode.MarkdownString();
  // appendText would leave `http://...` to become a link: markdownText escapes everything.
  md.appendMarkdown(`**${markdownText(title)}**\n\n`);
  for (const [label, value] of rows) md.appendMarkdown(`${markdownText(label)}: ${markdownText(value)}  \n`);
  return md;
}

/** The run key and task id from the argument forms commands receive (tree element, ids, objects). */
export function runKeyOf(arg: unknown): string | undefined {
  if (typeof arg === 'string') return arg;
  if (arg && typeof arg === 'object') {
    const o = arg as { runKey?: unknown; run?: { key?: unknown } };
    if (typeof o.runKey === 'string') return o.runKey;
    if (o.run && typeof o.run.key === 'string') return o.run.key;
  }
  return undefined;
}

export function registerTaskTree(context: vscode.ExtensionContext, runs: TraceRuns): TaskTreeProvider {
  const provider = new TaskTreeProvider(runs);
  const view = vscode.window.createTreeView('asyncTrace.tasks', {
    treeDataProvider: provider, showCollapseAll: true, canSelectMany: false,
  });
  context.subscriptions.push(provider, view);
  // Shown again after a run changed while it was hidden: redraw it whole. The workbench replays the
  // refreshes it deferred, and those of rows since replaced (a process row that got its first
  // tasks) could leave expanded rows empty.
  context.subscriptions.push(view.onDidChangeVisibility((e) => { if (e.visible) provider.refreshAll(); }));

  // Reveal-driven selections must not echo back to the other views as a tree selection.
  let echo: string | undefined;

  const revealNode = async (node: TaskNode | ProcessNode, focus: boolean): Promise<boolean> => {
    echo = node.id;
    try {
      // A task row opens to show its children and details; a process row is only selected (it starts open).
      await view.reveal(node, { select: true, focus, expand: node.kind === 'task' });
    } catch {
      // The element may have vanished between lookup and reveal (run removed): nothing to show.
      return false;
    } finally {
      setTimeout(() => { echo = undefined; }, 0);
    }
    return true;
  };

  const reveal = async (run: TraceRunView, taskId: number, focus = false): Promise<boolean> => {
    const node = provider.nodeForReveal(run, taskId);
    return node ? revealNode(node, focus) : false;
  };

  const updateFilterUi = (): void => {
    const f = provider.filter;
    void vscode.commands.executeCommand('setContext', 'asyncTrace.filtered', !!f);
    view.description = f ? t('Filter: {0}', describeFilter(f, t)) : undefined;
    // The message shows above the tree even when the view's header is hidden (single-view container).
    if (f && runs.runs.length > 0) {
      const { matching, total } = provider.filterCounts();
      view.message = matching === 0 ? t('No task matches the filter ({0}).', describeFilter(f, t))
        : t('Filter: {0} — {1} of {2} tasks match.', describeFilter(f, t), matching, total);
    } else view.message = undefined;
  };

  context.subscriptions.push(
    runs.onDidChangeRuns(() => { provider.runsChanged(); updateFilterUi(); }),
    runs.onDidUpdateRun(({ run, delta }) => provider.runUpdated(run, delta)),
    runs.onDidSelectTask((sel) => {
      if (sel.source === 'tree') return;
      void reveal(sel.run, sel.taskId);
    }),
    runs.onDidSelectProcess((sel) => {
      if (sel.source === 'tree') return;
      const node = provider.nodeForProcess(sel.run, sel.process);
      if (node) void revealNode(node, false);
    }),
    view.onDidChangeSelection((e) => {
      const node = e.selection[0];
      if (!node) return;
      if (node.kind === 'run') { runs.select(node.run); return; }
      if (echo === node.id) return;
      if (node.kind === 'process') { runs.selectProcess({ run: node.run, process: node.process, source: 'tree' }); return; }
      if (node.kind !== 'task' && node.kind !== 'detail') return;
      runs.selectTask({ run: node.run, taskId: node.taskId, source: 'tree' });
    }),
    vscode.commands.registerCommand('asyncTrace.tree.showMore', (id: string) => provider.showMore(id)),
    vscode.commands.registerCommand('asyncTrace.revealTask', async (runArg: unknown, taskId?: number) => {
      const key = runKeyOf(runArg);
      const run = key !== undefined ? runs.byKey(key) : runs.selected;
      const id = typeof taskId === 'number' ? taskId : (runArg as { taskId?: number } | undefined)?.taskId;
      if (!run || typeof id !== 'number' || !run.tasks.has(id)) {
        void vscode.window.showWarningMessage(t('That task is not in any open run.'));
        return false;
      }
      if (provider.filter && !(await reveal(run, id, true))) {
        const clear = t('Clear Filter');
        const pick = await vscode.window.showInformationMessage(t('Task {0} is hidden by the task filter.', taskName(run, id)), clear);
        if (pick !== clear) return false;
        provider.setFilter(undefined);
        updateFilterUi();
      }
      return reveal(run, id, true);
    }),
    vscode.commands.registerCommand('asyncTrace.filterTasks', () => pickFilter(provider, updateFilterUi)),
    vscode.commands.registerCommand('asyncTrace.clearFilter', () => { provider.setFilter(undefined); updateFilterUi(); }),
  );
  updateFilterUi();
  provider.afterFilteredRefresh = updateFilterUi;

  contributeTestState('tree', () => ({
    ...(provider.snapshot() as object),
    viewDescription: view.description ?? null,
    viewMessage: view.message ?? null,
    selection: view.selection.map((n) => n.id),
  }));
  return provider;
}

/** The filter QuickPick: status presets plus free text that filters live as the user types. */
async function pickFilter(provider: TaskTreeProvider, updateUi: () => void): Promise<void> {
  const before = provider.filter;
  type Mode = TaskStateFilter | 'all';
  type Item = vscode.QuickPickItem & { mode?: Mode | 'clear' | 'text' };
  const qp = vscode.window.createQuickPick<Item>();
  qp.title = t('Filter Tasks');
  qp.placeholder = t('Type to match task names and coroutines, or pick a preset');
  qp.value = before?.text ?? '';
  let status: Mode = before?.states?.[0] ?? 'all';
  const apply = (): void => {
    provider.setFilter({ states: status === 'all' ? [] : [status], text: qp.value.trim() });
    updateUi();
  };
  const items = (): Item[] => {
    const list: Item[] = [];
    const mark = (m: Mode): string => (status === m ? t('active') : '');
    if (qp.value.trim()) list.push({ label: `$(filter) ${t('Tasks matching "{0}"', qp.value.trim())}`, mode: 'text', alwaysShow: true });
    list.push({ label: `$(error) ${t('Only failed or cancelled')}`, description: mark('failedOrCancelled'), mode: 'failedOrCancelled', alwaysShow: true });
    list.push({ label: `$(sync) ${t('Only still running')}`, description: mark('alive'), mode: 'alive', alwaysShow: true });
    if (status !== 'all') list.push({ label: `$(list-flat) ${t('All states')}`, mode: 'all', alwaysShow: true });
    if (before) list.push({ label: `$(clear-all) ${t('Clear filter')}`, mode: 'clear', alwaysShow: true });
    return list;
  };
  const refreshItems = (): void => {
    const list = items();
    qp.items = list;
    // Enter keeps the typed text: QuickPick would otherwise activate the best fuzzy match (a preset).
    if (list[0]?.mode === 'text') qp.activeItems = [list[0]];
  };
  refreshItems();
  let accepted = false;
  await new Promise<void>((resolve) => {
    qp.onDidChangeValue(() => { refreshItems(); apply(); });
    qp.onDidAccept(() => {
      const mode = qp.selectedItems[0]?.mode;
      accepted = true;
      if (mode === 'clear') { provider.setFilter(undefined); updateUi(); qp.hide(); return; }
      if (mode && mode !== 'text') status = mode;
      apply();
      qp.hide();
    });
    qp.onDidHide(() => resolve());
    qp.show();
  });
  qp.dispose();
  if (!accepted) { provider.setFilter(before); updateUi(); } // Escape restores what was there
}
