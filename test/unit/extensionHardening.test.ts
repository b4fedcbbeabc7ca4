// The extension's own modules against a hostile trace and hostile local pages, with a minimal
// stand-in for the `vscode` module: the tree's labels and Markdown tooltips, the hover Markdown,
// "reveal" through a parent cycle, and the test-hook server's token and origin checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Module from 'node:module';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { request } from 'node:http';

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
  isTrusted?: unknown;
  supportHtml?: boolean;
  constructor(value = '', public supportThemeIcons = false) { this.value = value; }
  appendText(s: string) { this.value += s.replace(/[\\`*_{}[\]()#+\-.!]/g, '\\$&'); return this; }
  appendMarkdown(s: string) { this.value += s; return this; }
}
const executed: Array<[string, unknown[]]> = [];
const vscodeStub = {
  EventEmitter, TreeItem, ThemeIcon, ThemeColor, MarkdownString,
  TreeItemCollapsibleState: { None: 0, Collapsed: 1, Expanded: 2 },
  l10n: { t: (m: string, ...a: unknown[]) => m.replace(/\{(\d+)\}/g, (_, i) => String(a[Number(i)])) },
  workspace: { getConfiguration: () => ({ get: (_k: string, d: unknown) => d }), workspaceFolders: [], isTrusted: true },
  commands: { executeCommand: async (id: string, ...args: unknown[]) => { executed.push([id, args]); return 'ran'; } },
  window: { activeTextEditor: undefined, visibleTextEditors: [] },
  languages: { getDiagnostics: () => [] },
  DiagnosticSeverity: {},
};
const M = Module as unknown as { _load: (req: string, ...rest: unknown[]) => unknown };
const load = M._load;
M._load = function (req: string, ...rest: unknown[]) { return req === 'vscode' ? vscodeStub : load.call(this, req, ...rest); };

/* eslint-disable @typescript-eslint/no-require-imports */
const { TaskTreeProvider } = require('../../src/extension/taskTreeProvider') as typeof import('../../src/extension/taskTreeProvider');
const { TraceRuns } = require('../../src/extension/traceRuns') as typeof import('../../src/extension/traceRuns');
const { TraceRun } = require('../../src/core/traceModel') as typeof import('../../src/core/traceModel');
const { hoverMarkdown } = require('../../src/extension/annotationHovers') as typeof import('../../src/extension/annotationHovers');
const { LineAnnotator } = require('../../src/core/lineAnnotations') as typeof import('../../src/core/lineAnnotations');
const { registerTestHooks } = require('../../src/extension/testHooks') as typeof import('../../src/extension/testHooks');
type TreeNode = import('../../src/extension/taskTreeProvider').TreeNode;

const LINK = '[click](command:workbench.action.terminal.new)';
const J = JSON.stringify;

/** Markdown that renders a link: `[x](`, or an autolink the renderer would detect in unescaped text. */
function markdownHasLink(md: string, allowed: readonly string[] = []): boolean {
  let text = md;
  for (const a of allowed) text = text.split(a).join('');
  // Code spans render literally (no links, no autolinks); plainText still broke `](` inside.
  if (/`[^`]*\]\([^`]*`/.test(text)) return true;
  text = text.replace(/`[^`]*`/g, '');
  const unescaped = text.replace(/\\./g, '');
  return /\]\(|https?:\/\/|www\.|<[a-z]/i.test(unescaped);
}

function hostileRun(): InstanceType<typeof TraceRun> {
  const run = new TraceRun('r1', LINK, { live: false });
  run.ingest([
    `{"type":"run","v":1,"pid":1,"python":${J(LINK)},"argv":[${J(LINK)}],"cwd":${J(LINK)},"started":"2026-01-01T00:00:00Z"}`,
    `{"type":"site","id":1,"file":${J('/w/http://evil.example/' + LINK + '.py')},"line":3,"func":${J(LINK)}}`,
    `{"type":"task","id":1,"ts":1,"kind":"asyncio","name":${J(LINK)},"coro":"http://evil.example","parent":2,"site":1}`,
    `{"type":"task","id":2,"ts":1,"kind":"asyncio","name":"http://evil.example/b","coro":${J(LINK)},"parent":1,"site":1}`,
    `{"type":"task","id":3,"ts":1,"kind":"asyncio","name":"www.evil.example","coro":"c","parent":3,"site":1}`,
    `{"type":"step","task":1,"ts":2,"dur":1,"await":{"stack":[1],"on":{"kind":${J(LINK)}}}}`,
    `{"type":"step","task":2,"ts":2,"dur":1,"await":{"stack":[1],"on":{"kind":"task","task":1}}}`,
    `{"type":"end","task":3,"ts":5,"state":"failed","error":{"type":${J(LINK)},"message":"see http://evil.example","site":1}}`,
  ].join('\n') + '\n');
  run.finish();
  return run;
}

test('tree rows, descriptions and Markdown tooltips of a hostile trace carry no link; reveal through a cycle ends', () => {
  const runs = new TraceRuns();
  const run = hostileRun();
  runs.add(run);
  const provider = new TaskTreeProvider(runs);
  const seen: TreeNode[] = [];
  const walk = (node: TreeNode | undefined, depth: number): void => {
    assert.ok(depth < 20, 'the tree is finite');
    for (const child of provider.getChildren(node)) { seen.push(child); walk(child, depth + 1); }
  };
  walk(undefined, 0);
  const tasks = seen.filter((n) => n.kind === 'task').map((n) => (n as { taskId: number }).taskId).sort();
  assert.deepEqual(tasks, [1, 2, 3], 'no task hidden by the cycle');
  for (const node of seen) {
    const item = provider.getTreeItem(node) as TreeItem;
    const done = provider.resolveTreeItem(item as never, node) as unknown as TreeItem;
    for (const s of [String(done.label), done.description ?? '']) assert.ok(!/\]\(/.test(s), `row text: ${s}`);
    const tip = done.tooltip;
    if (tip instanceof MarkdownString) assert.ok(!markdownHasLink(tip.value), `tooltip: ${tip.value}`);
  }
  for (const id of [1, 2, 3]) {
    const node = provider.nodeForReveal(run, id);
    assert.ok(node);
    let n = 0;
    for (let p: TreeNode | undefined = node; p !== undefined; p = provider.getParent(p) ?? undefined) assert.ok(++n < 10, 'getParent chain ends');
  }
});

test('hover Markdown of a hostile trace: only the extension\'s own two command links', () => {
  const run = hostileRun();
  const annotator = new LineAnnotator(run);
  annotator.update();
  const ann = annotator.snapshot();
  let hovers = 0;
  for (const f of ann.files.values()) {
    for (const [line, info] of f.lines) {
      const stats = info.await ? annotator.tasksAt(f.file, line) : [];
      const md = hoverMarkdown(run, info, stats as never) as unknown as MarkdownString;
      hovers++;
      // Remove the extension's own links (trusted for its two commands only), then nothing may link.
      const own = md.value.match(/\[\$\([a-z-]+\)\]\(command:asyncTrace\.(revealTask|showTimeline)\?[^ )]*(?: "[^"]*")?\)/g) ?? [];
      assert.ok(!markdownHasLink(md.value, own), md.value);
      assert.deepEqual(md.isTrusted, { enabledCommands: ['asyncTrace.revealTask', 'asyncTrace.showTimeline'] });
      assert.equal(md.supportHtml, false);
    }
  }
  assert.ok(hovers > 0);
});

function send(port: number, init: { method?: string; path?: string; headers?: Record<string, string>; body?: string }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: init.method ?? 'GET', path: init.path ?? '/state', headers: init.headers }, (res) => {
      let body = '';
      res.on('data', (c) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

test('test-hook server: only with the per-launch token, never for a browser page (any origin)', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'asynctrace-hooks-'));
  const portFile = path.join(dir, 'hooks.port');
  process.env.ASYNC_TRACE_TEST_HOOKS = portFile;
  const context = { subscriptions: [] as Array<{ dispose(): void }> };
  try {
    registerTestHooks(context as never, new TraceRuns());
    for (let i = 0; i < 200 && !existsSync(portFile); i++) await new Promise((r) => setTimeout(r, 10));
    const [portText, token] = readFileSync(portFile, 'utf8').split('\n');
    const port = Number(portText);
    assert.match(token, /^[0-9a-f]{64}$/);
    const command = { method: 'POST', path: '/command', body: J({ id: 'workbench.action.terminal.new', args: [] }) };
    const json = { 'content-type': 'application/json' };
    assert.equal((await send(port, { ...command, headers: json })).status, 403, 'no token');
    assert.equal((await send(port, { ...command, headers: { ...json, 'x-async-trace-token': 'f'.repeat(64) } })).status, 403, 'wrong token');
    assert.equal((await send(port, { ...command, headers: { ...json, 'x-async-trace-token': token, origin: 'http://127.0.0.1:8080' } })).status, 403, 'a local page');
    assert.equal((await send(port, { ...command, headers: { ...json, 'x-async-trace-token': token, 'sec-fetch-site': 'same-site' } })).status, 403, 'a browser fetch');
    assert.equal((await send(port, { ...command, headers: { ...json, 'x-async-trace-token': token, host: 'evil.example:80' } })).status, 403, 'DNS rebinding');
    assert.equal((await send(port, { headers: {} })).status, 403, 'state needs the token too');
    assert.equal(executed.length, 0, 'nothing ran');
    const ok = await send(port, { ...command, headers: { ...json, 'x-async-trace-token': token } });
    assert.equal(ok.status, 200);
    assert.deepEqual(executed, [['workbench.action.terminal.new', []]]);
  } finally {
    for (const d of context.subscriptions) d.dispose();
    delete process.env.ASYNC_TRACE_TEST_HOOKS;
    rmSync(dir, { recursive: true, force: true });
  }
});
