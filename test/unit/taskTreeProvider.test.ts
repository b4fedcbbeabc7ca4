// The tree provider against a minimal stand-in for the `vscode` module: element identity, paging,
// reveal through pages, throttled live refreshes of only the changed rows, and the filter.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Module from 'node:module';

class EventEmitter<T> {
  private listeners: Array<(e: T) => void> = [];
  event = (l: (e: T) => void) => { this.listeners.push(l); return { dispose: () => { this.listeners = this.listeners.filter((x) => x !== l); } }; };
  fire(e: T): void { for (const l of this.listeners) l(e); }
  dispose(): void { this.listeners = []; }
}
class TreeItem {
  id?: string; description?: string; tooltip?: unknown; iconPath?: unknown; contextValue?: string; command?: unknown;
  constructor(public label: string, public collapsibleState = 0) {}
}
class ThemeIcon { constructor(public id: string, public color?: unknown) {} }
class ThemeColor { constructor(public id: string) {} }
class MarkdownString {
  value = '';
  appendText(s: string) { this.value += s.replace(/[\\`*_{}[\]()#+\-.!<>|]/g, '\\$&'); return this; }
  appendMarkdown(s: string) { this.value += s; return this; }
}
const config = { liveUpdateIntervalMs: 50 };
const vscodeStub = {
  EventEmitter, TreeItem, ThemeIcon, ThemeColor, MarkdownString,
  TreeItemCollapsibleState: { None: 0, Collapsed: 1, Expanded: 2 },
  l10n: { t: (m: string, ...a: unknown[]) => m.replace(/\{(\d+)\}/g, (_, i) => String(a[Number(i)])) },
  workspace: { getConfiguration: () => ({ get: (k: keyof typeof config, d: unknown) => config[k] ?? d }) },
};
// Resolve `import * as vscode from 'vscode'` in the code under test to the stand-in.
const M = Module as unknown as { _load: (req: string, ...rest: unknown[]) => unknown };
const load = M._load;
M._load = function (req: string, ...rest: unknown[]) { return req === 'vscode' ? vscodeStub : load.call(this, req, ...rest); };

/* eslint-disable @typescript-eslint/no-require-imports */
const { TaskTreeProvider } = require('../../src/extension/taskTreeProvider') as typeof import('../../src/extension/taskTreeProvider');
const { TraceRuns } = require('../../src/extension/traceRuns') as typeof import('../../src/extension/traceRuns');
const { TraceRun } = require('../../src/core/traceModel') as typeof import('../../src/core/traceModel');
type TreeNode = import('../../src/extension/taskTreeProvider').TreeNode;

const header = '{"type":"run","v":1,"pid":1,"python":"3.12","argv":["prog.py"],"cwd":"/p","started":"2026-11-25T15:00:00Z"}';
const task = (id: number, parent: number | null, name = `Task-${id}`) =>
  `{"type":"task","id":${id},"ts":${id},"kind":"asyncio","name":"${name}","coro":"work","parent":${parent},"site":null}`;

function setup(lines: string[], live = false) {
  const runs = new TraceRuns();
  const run = new TraceRun('r1', 'prog', { live });
  run.ingest(lines.join('\n') + '\n');
  runs.add(run);
  const provider = new TaskTreeProvider(runs);
  const fired: Array<TreeNode | TreeNode[] | undefined> = [];
  provider.onDidChangeTreeData((e) => fired.push(e));
  return { runs, run, provider, fired };
}

const labels = (p: InstanceType<typeof TaskTreeProvider>, nodes: TreeNode[]) => nodes.map((n) => p.getTreeItem(n).label);

test('roots are runs; tasks nest by creator; elements are stable objects with runKey', () => {
  const { provider } = setup([header, task(1, null), task(2, 1), task(3, 1), task(4, 3)]);
  const [runNode] = provider.getChildren();
  assert.equal(runNode.kind, 'run');
  assert.equal(runNode.runKey, 'r1');
  assert.equal(provider.getTreeItem(runNode).label, 'prog.py');
  const [t1] = provider.getChildren(runNode);
  assert.deepEqual(labels(provider, provider.getChildren(t1).filter((n) => n.kind === 'task')), ['Task-2', 'Task-3']);
  assert.strictEqual(provider.getChildren(runNode)[0], t1, 'same element object every time (VS Code keys refreshes by it)');
  const t4 = provider.nodeForReveal(provider.getChildren()[0].run, 4)!;
  assert.equal(provider.getTreeItem(provider.getParent(t4)!).label, 'Task-3');
  assert.equal(provider.getParent(provider.getParent(provider.getParent(t4)!)!), runNode);
});

test('long child lists come in pages; reveal grows the page that holds the task', () => {
  const lines = [header, task(1, null)];
  for (let i = 2; i <= 701; i++) lines.push(task(i, 1));
  const { provider, run, fired } = setup(lines);
  const [runNode] = provider.getChildren();
  const [t1] = provider.getChildren(runNode);
  let kids = provider.getChildren(t1);
  assert.equal(kids.filter((n) => n.kind === 'task').length, 200);
  const more = kids.find((n) => n.kind === 'more')!;
  assert.equal(provider.getTreeItem(more).label, '\u2026 500 more');
  provider.showMore(more.id);
  assert.strictEqual(fired.pop(), t1, 'only the parent row refreshes');
  kids = provider.getChildren(t1);
  assert.equal(kids.filter((n) => n.kind === 'task').length, 400);
  const target = provider.nodeForReveal(run, 440)!; // index 438: on the third page
  assert.ok(provider.getChildren(t1).includes(target));
  assert.equal(provider.getTreeItem(provider.getChildren(t1).find((n) => n.kind === 'more')!).label, '\u2026 100 more');
});

test('live updates are throttled and refresh only the rows that changed', async () => {
  const { provider, run, fired } = setup([header, task(1, null), task(2, 1), task(3, 1)], true);
  const [runNode] = provider.getChildren();
  const [t1] = provider.getChildren(runNode);
  const t2 = provider.getChildren(t1)[0];
  const before = provider.getTreeItem(t2);
  assert.match(String(before.description), /running|waiting|ready/);
  // Several batches inside one interval: one refresh.
  run.ingest('{"type":"step","task":2,"ts":10,"dur":5}\n');
  provider.runUpdated(run, { newTasks: [], changedTasks: [2], stepsFrom: 0, newSites: 0, changedTimeouts: [], newCancels: 0, newBlocks: 0, runChanged: false });
  run.ingest('{"type":"end","task":2,"ts":20,"state":"done"}\n');
  provider.runUpdated(run, { newTasks: [], changedTasks: [2], stepsFrom: 0, newSites: 0, changedTimeouts: [], newCancels: 0, newBlocks: 0, runChanged: false });
  assert.equal(fired.length, 0, 'nothing before the interval');
  await new Promise((r) => setTimeout(r, 120));
  assert.equal(fired.length, 1);
  const changed = fired[0] as TreeNode[];
  assert.ok(Array.isArray(changed));
  assert.ok(changed.includes(t2), 'the changed task row');
  assert.ok(!changed.includes(provider.getChildren(t1)[1]), 'not its unchanged sibling');
  const after = provider.getTreeItem(t2);
  assert.notStrictEqual(after, before, 'its cached item was rebuilt');
  assert.match(String(after.description), /done$/);
  // A new child refreshes its parent (where it is listed), not the whole tree.
  run.ingest(task(5, 3) + '\n');
  provider.runUpdated(run, { newTasks: [5], changedTasks: [5, 3], stepsFrom: 0, newSites: 0, changedTimeouts: [], newCancels: 0, newBlocks: 0, runChanged: false });
  await new Promise((r) => setTimeout(r, 120));
  const second = fired[1] as TreeNode[];
  assert.ok(second.some((n) => n.kind === 'task' && n.taskId === 3));
  provider.dispose();
});

test('the end of a live run redraws every row it shows, whatever was batched', async () => {
  const { provider, run, fired } = setup([header, task(1, null), task(2, 1)], true);
  const [runNode] = provider.getChildren();
  const [t1] = provider.getChildren(runNode);
  const early = provider.getTreeItem(t1);
  assert.match(String(early.description), /running|waiting|ready/);
  // The last lines and the end of the stream arrive together; the task's own change is batched
  // with the run's (as when the program's last lines come with its exit).
  run.ingest('{"type":"end","task":2,"ts":20,"state":"done"}\n{"type":"end","task":1,"ts":30,"state":"done"}\n');
  provider.runUpdated(run, { newTasks: [], changedTasks: [2], stepsFrom: 0, newSites: 0, changedTimeouts: [], newCancels: 0, newBlocks: 0, runChanged: false });
  run.finish();
  provider.runUpdated(run, { newTasks: [], changedTasks: [], stepsFrom: 0, newSites: 0, changedTimeouts: [], newCancels: 0, newBlocks: 0, runChanged: true });
  await new Promise((r) => setTimeout(r, 120));
  assert.deepEqual(fired, [undefined], 'one full refresh');
  const last = provider.getTreeItem(t1);
  assert.notStrictEqual(last, early);
  assert.match(String(last.description), /done$/);
  provider.dispose();
});

test('filter keeps matches and their creators, and counts matches', () => {
  const { provider } = setup([header, task(1, null, 'main'), task(2, 1, 'fetch-alpha'), task(3, 1, 'fetch-beta'), task(4, null, 'other')]);
  provider.setFilter({ text: 'beta' });
  const [runNode] = provider.getChildren();
  const roots = provider.getChildren(runNode);
  assert.deepEqual(labels(provider, roots), ['main']);
  assert.deepEqual(labels(provider, provider.getChildren(roots[0]).filter((n) => n.kind === 'task')), ['fetch-beta']);
  assert.deepEqual(provider.filterCounts(), { matching: 1, total: 4 });
  assert.equal(provider.nodeForReveal(runNode.run, 2), undefined, 'a hidden task cannot be revealed');
  provider.setFilter(undefined);
  assert.equal(provider.getChildren(runNode).length, 2);
});

test('tooltips are escaped Markdown, built on hover', () => {
  const { provider } = setup([header, task(1, null, 'evil *[x](command:rm)*')]);
  const [runNode] = provider.getChildren();
  const [t1] = provider.getChildren(runNode);
  const item = provider.getTreeItem(t1);
  assert.equal(item.tooltip, undefined);
  provider.resolveTreeItem(item, t1);
  const md = (item.tooltip as unknown as MarkdownString).value;
  // Every punctuation escaped (`:` too, so no autolink), and `](` broken by plainText.
  assert.ok(md.includes('evil \\*\\[x\\]\u200b\\(command\\:rm\\)\\*'), md);
});

test('a process row is found for the timeline\'s group selection, and selecting it selects its run', () => {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { readFileSync } = require('node:fs') as typeof import('node:fs');
  const path = require('node:path') as typeof import('node:path');
  // A multiprocessing Pool of 2 forked workers (recorded), each running an asyncio job.
  const pool = path.join(__dirname, 'fixtures', 'processes', 'pool');
  const runs = new TraceRuns();
  const run = new TraceRun('pool', 'pool');
  run.ingest(readFileSync(path.join(pool, 'main.jsonl')));
  for (const f of ['worker-2365.jsonl', 'worker-2366.jsonl']) { run.ingestProcess(f, readFileSync(path.join(pool, f))); run.finishProcess(f); }
  run.finish();
  const single = new TraceRun('one', 'one');
  single.ingest([header, task(1, null)].join('\n') + '\n');
  runs.add(single);
  runs.add(run);
  const provider = new TaskTreeProvider(runs);

  // The very element the tree lists under the run (reveal needs the same object), its parent the run.
  const [runNode] = provider.getChildren().filter((n) => n.run === run);
  const listed = provider.getChildren(runNode);
  const keys = [...run.processes.keys()];
  assert.equal(listed.length, 3);
  for (const key of keys) {
    const node = provider.nodeForProcess(run, key);
    assert.ok(node && node.kind === 'process' && node.process === key);
    assert.ok(listed.includes(node));
    assert.equal(provider.getParent(node), runNode);
  }
  // A run of one process has no process rows; nor has a run a process it never recorded.
  assert.equal(provider.nodeForProcess(single, 0), undefined);
  assert.equal(provider.nodeForProcess(run, 99), undefined);

  // The selection reaches the other views with its run selected first.
  const seen: Array<{ process: number; source: string; selected: string | undefined }> = [];
  runs.onDidSelectProcess((sel) => seen.push({ process: sel.process, source: sel.source, selected: runs.selected?.key }));
  runs.select(single);
  runs.selectProcess({ run, process: keys[1], source: 'timeline' });
  assert.deepEqual(seen, [{ process: keys[1], source: 'timeline', selected: 'pool' }]);

  // A removed run's processes are no longer revealed.
  runs.remove(run);
  provider.runsChanged();
  assert.equal(provider.nodeForProcess(run, keys[1]), undefined);
});
