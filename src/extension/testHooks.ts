// End-to-end test hooks: a tiny HTTP server inside the extension host that the real-VS-Code tests
// (test/e2e/harness.mjs) use to run commands and read the extension's state. It exists only when
// the environment variable ASYNC_TRACE_TEST_HOOKS names a file to write its port to; otherwise
// registerTestHooks returns at once and nothing else here runs.
//
// Only the test that started this VS Code may use it: the file gets the port and a random token
// made per launch (`<port>\n<token>`, mode 0600), and every request must carry that token in the
// `x-async-trace-token` header. Requests a browser page could send are refused: any with an
// `Origin` or `Sec-Fetch-Site` header (a page on any origin, local ones included), and any whose
// `Host` is not the loopback address the server listens on (DNS rebinding).
//
//   POST /command  {"id": "asyncTrace.clear", "args": [...]}  -> {"result": <JSON>} | {"error": "..."}
//   GET  /state    -> {runs, selectedRun, activeEditor, visibleEditors, diagnostics, ...contributed}
//   POST /suite    -> starts the integration suite named by ASYNC_TRACE_TEST_SUITE (testSuiteHost.ts)
//   GET  /suite    -> {running, report: {passed, failed, pending, tests: [...]} | null, error}
//
// Command arguments cannot carry VS Code types over JSON, so these objects are revived:
//   {"$uri": "file:///x.py" | "/abs/x.py"} -> vscode.Uri, {"$position": [line, ch]} -> Position,
//   {"$range": [l1, c1, l2, c2]} -> Range (all 0-based, as in the API).
import * as http from 'node:http';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as vscode from 'vscode';
import type { TraceRunView } from '../core/modelTypes';
import type { TraceRuns } from './traceRuns';
import { startSuite, suiteStatus } from './testSuiteHost';

const contributors = new Map<string, () => unknown>();

/**
 * Features add a section to the state end-to-end tests read: `GET /state` includes
 * `[name]: fn()`. `fn` runs only when a test asks, so registering costs nothing in production.
 */
export function contributeTestState(name: string, fn: () => unknown): void {
  contributors.set(name, fn);
}

export function registerTestHooks(context: vscode.ExtensionContext, runs: TraceRuns): void {
  const portFile = process.env.ASYNC_TRACE_TEST_HOOKS;
  if (!portFile) return;

  const token = randomBytes(32).toString('hex');
  let port = 0;
  const server = http.createServer((req, res) => {
    const refused = refusal(req, token, port);
    if (refused) { send(res, 403, { error: refused }); return; }
    handle(req, runs).then(
      ([status, body]) => send(res, status, body),
      (err: unknown) => send(res, 500, { error: errorText(err) }),
    );
  });
  context.subscriptions.push({ dispose: () => server.close() });
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    if (!address || typeof address === 'string') return;
    port = address.port;
    // Write then rename, so a polling test never reads a half-written file.
    const tmp = `${portFile}.${process.pid}.tmp`;
    void fs
      .writeFile(tmp, `${address.port}\n${token}`, { mode: 0o600 })
      .then(() => fs.rename(tmp, portFile))
      .catch((err: unknown) => console.error(`Async Trace test hooks: cannot write ${portFile}: ${errorText(err)}`));
  });
}

/** Why a request is refused (undefined: it is the test's). */
export function refusal(req: Pick<http.IncomingMessage, 'headers'>, token: string, port: number): string | undefined {
  const h = req.headers;
  // Browsers send both on every fetch and form post (Node's fetch sends neither).
  if (h.origin !== undefined || h['sec-fetch-site'] !== undefined) return 'cross-origin requests are refused';
  if (h.host !== `127.0.0.1:${port}`) return 'wrong host';
  const given = h['x-async-trace-token'];
  if (typeof given !== 'string' || given.length !== token.length
    || !timingSafeEqual(Buffer.from(given), Buffer.from(token))) return 'missing or wrong token';
  return undefined;
}

async function handle(req: http.IncomingMessage, runs: TraceRuns): Promise<[number, unknown]> {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  if (req.method === 'GET' && url.pathname === '/state') return [200, collectState(runs)];
  if (req.method === 'GET' && url.pathname === '/ping') return [200, { ok: true }];
  if (req.method === 'POST' && url.pathname === '/suite') return [200, startSuite()];
  if (req.method === 'GET' && url.pathname === '/suite') return [200, suiteStatus()];
  if (req.method === 'POST' && url.pathname === '/command') {
    const body = JSON.parse((await readBody(req)) || '{}') as { id?: unknown; args?: unknown };
    if (typeof body.id !== 'string') return [400, { error: 'body needs "id": a command id' }];
    const args = Array.isArray(body.args) ? body.args.map(revive) : [];
    try {
      const result = await vscode.commands.executeCommand(body.id, ...args);
      return [200, { result: toJson(result) }];
    } catch (err) {
      return [500, { error: errorText(err) }];
    }
  }
  return [404, { error: `no route ${req.method} ${url.pathname}` }];
}

export function collectState(runs: TraceRuns): Record<string, unknown> {
  const editor = vscode.window.activeTextEditor;
  const state: Record<string, unknown> = {
    runs: runs.runs.map(summarizeRun),
    selectedRun: runs.selected?.key ?? null,
    activeEditor: editor ? editorInfo(editor) : null,
    visibleEditors: vscode.window.visibleTextEditors.map(editorInfo),
    diagnostics: vscode.languages.getDiagnostics().flatMap(([uri, list]) =>
      list.map((d) => ({
        file: uri.fsPath,
        line: d.range.start.line + 1,
        endLine: d.range.end.line + 1,
        severity: vscode.DiagnosticSeverity[d.severity],
        message: d.message,
        source: d.source ?? null,
        code: typeof d.code === 'object' ? String(d.code.value) : (d.code ?? null),
        related: (d.relatedInformation ?? []).map((r) => ({ file: r.location.uri.fsPath, line: r.location.range.start.line + 1, message: r.message })),
      })),
    ),
    workspaceTrusted: vscode.workspace.isTrusted,
    workspaceFolders: (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath),
  };
  for (const [name, fn] of contributors) {
    try {
      state[name] = toJson(fn());
    } catch (err) {
      state[name] = { error: errorText(err) };
    }
  }
  return state;
}

function summarizeRun(run: TraceRunView): Record<string, unknown> {
  return {
    key: run.key,
    label: run.label,
    live: run.live,
    exit: run.exit ?? null,
    counts: run.counts,
    issues: run.issues,
    roots: run.roots,
    processes: [...(run.processes?.values() ?? [])].map((p) => ({
      key: p.key, pid: p.pid, ppid: p.ppid ?? null, start: p.start, startTs: p.startTs, endTs: p.endTs ?? null,
      exitCode: p.exitCode ?? null, live: p.live,
    })),
    tasks: [...run.tasks.values()].map((t) => ({
      id: t.id,
      process: t.process ?? 0,
      createdTs: t.createdTs,
      endTs: t.endTs ?? null,
      kind: t.kind,
      name: t.name,
      coro: t.coro,
      status: t.status,
      parent: t.parent,
      children: t.children,
      stepCount: t.stepCount,
      error: t.error ?? null,
      timeouts: t.timeouts,
      cancels: t.cancels.length,
    })),
  };
}

/** 1-based line and column, like the editor's status bar. */
function editorInfo(editor: vscode.TextEditor): Record<string, unknown> {
  const pos = editor.selection.active;
  return {
    file: editor.document.uri.fsPath,
    uri: editor.document.uri.toString(),
    languageId: editor.document.languageId,
    line: pos.line + 1,
    column: pos.character + 1,
  };
}

function revive(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(revive);
  if (!value || typeof value !== 'object') return value;
  const o = value as Record<string, unknown>;
  if (typeof o.$uri === 'string') {
    return /^[a-z][a-z0-9+.-]+:/i.test(o.$uri) ? vscode.Uri.parse(o.$uri) : vscode.Uri.file(o.$uri);
  }
  if (Array.isArray(o.$position)) return new vscode.Position(Number(o.$position[0]), Number(o.$position[1]));
  if (Array.isArray(o.$range)) {
    const [a, b, c, d] = o.$range.map(Number);
    return new vscode.Range(a, b, c ?? a, d ?? b);
  }
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, revive(v)]));
}

/** JSON-safe copy: Uris as {$uri}, Maps/Sets as objects/arrays, cycles and functions dropped. */
function toJson(value: unknown): unknown {
  const seen = new WeakSet<object>();
  const walk = (v: unknown, depth: number): unknown => {
    if (v === undefined || typeof v === 'function' || typeof v === 'symbol') return undefined;
    if (typeof v === 'bigint') return v.toString();
    if (typeof v === 'number') return Number.isFinite(v) ? v : null;
    if (v === null || typeof v !== 'object') return v;
    if (v instanceof vscode.Uri) return { $uri: v.toString(), fsPath: v.fsPath };
    if (seen.has(v) || depth > 12) return undefined;
    seen.add(v);
    try {
      if (Array.isArray(v) || ArrayBuffer.isView(v)) return Array.from(v as ArrayLike<unknown>, (x) => walk(x, depth + 1) ?? null);
      if (v instanceof Set) return [...v].map((x) => walk(x, depth + 1) ?? null);
      if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [String(k), walk(x, depth + 1)]));
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) {
        const j = walk(x, depth + 1);
        if (j !== undefined) out[k] = j;
      }
      return out;
    } finally {
      seen.delete(v);
    }
  };
  return walk(value, 0) ?? null;
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(text);
}

function errorText(err: unknown): string {
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}
