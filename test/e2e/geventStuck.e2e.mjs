// gevent stuck greenlets in a real VS Code: a program whose two workers join each other (a join
// cycle) and whose listener waits on an AsyncResult nobody sets, traced with "Trace Async Run"
// (it gives up by itself after a joinall timeout). The Problems panel has the deadlock at one join
// line with the other join line as related information, and the AsyncResult wait as stuck; the
// Tasks tree shows those greenlets stuck; the hover of the join line tells the chain.
// Needs a Python with gevent (Debian: python3-gevent, for /usr/bin/python3), found among the
// machine's interpreters and pinned in the folder's asyncTrace.pythonPath: skipped with a message
// when none has it.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { hoverLine } from './editorDom.mjs';
import { launch } from './harness.mjs';
import { pythonWith } from './pythons.mjs';
import { onFailureShot, openTasksView, waitForRows } from './treeDom.mjs';

const PROGRAM = 'gevent_stuck_jobs.py';
// The lines of the program the entries point at.
const FETCHER_JOIN = 12;
const PARSER_JOIN = 17;
const RESULT_GET = 21;

const python = pythonWith(['gevent']);

describe('gevent stuck greenlets', { skip: python ? false : 'needs a Python >= 3.9 with gevent (Debian: python3-gevent); none of the interpreters found has it' }, () => {
  let h;
  before(async () => {
    h = await launch({ workspace: 'test/e2e/workspace', pythonPath: python });
  });
  after(async () => {
    await h?.close();
  });

  test('a join cycle and an AsyncResult nobody sets: Problems with related lines, stuck in the tree, the chain in the hover', async () => {
    const { page } = h;
    const run = await h.traceRun(PROGRAM);
    if (run.exit.code !== 0) assert.fail(`the program should give up by itself (joinall timeout) and exit 0 (${python}): ${JSON.stringify({ exit: run.exit, runner: (await h.state()).runner })}`);
    const finished = (await h.state()).runner.finished.find((f) => f.key === run.key);
    assert.deepEqual(finished?.interpreter, { command: python, source: 'setting' }, 'the run uses the pinned interpreter');

    // The analysis of the ended run: the join cycle (one entry for the cycle, at the join line of
    // whichever worker it starts from) and the AsyncResult wait nothing can wake.
    const stuck = await h.waitFor(async () => {
      const s = (await h.state()).stuck ?? [];
      return s.some((x) => x.kind === 'deadlock') && s.some((x) => x.line === RESULT_GET) ? s : undefined;
    }, 30000, 'the deadlock and the stuck AsyncResult wait');
    const cycle = stuck.find((x) => x.kind === 'deadlock');
    assert.ok([FETCHER_JOIN, PARSER_JOIN].includes(cycle.line), JSON.stringify(cycle));
    const otherJoin = cycle.line === FETCHER_JOIN ? PARSER_JOIN : FETCHER_JOIN;
    const chain = `(fetcher waits on task parser at ${PROGRAM}:${FETCHER_JOIN} → parser waits on task fetcher at ${PROGRAM}:${PARSER_JOIN} → back to fetcher`
      + `|parser waits on task fetcher at ${PROGRAM}:${PARSER_JOIN} → fetcher waits on task parser at ${PROGRAM}:${FETCHER_JOIN} → back to parser)`;
    assert.match(cycle.message, new RegExp(`^Deadlock for [\\d.]+ m?s: ${chain}$`));
    const result = stuck.find((x) => x.line === RESULT_GET);
    assert.equal(result.kind, 'quiescent');
    assert.match(result.message, new RegExp(`^Stuck for [\\d.]+ m?s: listener waits on future \\(AsyncResult\\) at ${PROGRAM.replace('.', '\\.')}:${RESULT_GET}; nothing can wake it: every other live task waits too \\(`));
    // main's joinall has a timeout: it is not stuck.
    assert.equal(stuck.length, 2, JSON.stringify(stuck));

    // The same as diagnostics of the program's file, the cycle's other join line as related information.
    const file = path.join(h.workspaceDir, PROGRAM);
    const diags = await h.waitFor(async () => {
      const d = (await h.state()).diagnostics.filter((x) => x.file === file && x.source === 'Async Trace');
      return d.length >= 2 ? d : undefined;
    }, 20000, 'the diagnostics of the program');
    const deadlock = diags.find((d) => d.line === cycle.line);
    assert.equal(deadlock.severity, 'Error');
    assert.equal(deadlock.code, 'deadlock');
    assert.deepEqual(deadlock.related.map((r) => [r.file, r.line]), [[file, otherJoin]]);
    assert.match(deadlock.related[0].message, /^(fetcher|parser) waits here$/);
    const waitDiag = diags.find((d) => d.line === RESULT_GET);
    assert.equal(waitDiag.code, 'stuck-nothing-can-wake');
    assert.ok(waitDiag.related.some((r) => r.line === FETCHER_JOIN) && waitDiag.related.some((r) => r.line === PARSER_JOIN), JSON.stringify(waitDiag));

    // The Problems panel, as the user sees it: both entries, and the related line under the deadlock.
    await h.command('workbench.actions.view.problems');
    const problems = page.locator('.markers-panel .monaco-list-row');
    const rows = await onFailureShot(h, 'gevent problems panel', () => h.waitFor(async () => {
      const all = await problems.allInnerTexts();
      const text = all.join('\n');
      return /Deadlock for .+ waits on task (parser|fetcher)/.test(text)
        && /listener waits on future \(AsyncResult\)/.test(text)
        && all.some((x) => /(fetcher|parser) waits here/.test(x) && x.includes(`[Ln ${otherJoin}`)) ? all : undefined;
    }, 20000, 'the Problems panel entries with the related join line'));
    assert.ok(rows.some((x) => x.includes(`[Ln ${cycle.line}`) && /Deadlock for/.test(x)), rows.join('\n'));
    assert.ok(rows.some((x) => x.includes(`[Ln ${RESULT_GET}`) && /AsyncResult/.test(x)), rows.join('\n'));
    await h.screenshot('gevent-stuck-problems');

    // The Tasks tree shows the three greenlets stuck (warning icon); main ended normally.
    await openTasksView(h);
    const tree = await waitForRows(h, (r) => ['fetcher', 'parser', 'listener'].every((n) => r.some((x) => x.label === n && /^stuck · /.test(x.description) && x.icon === 'warning')),
      'fetcher, parser and listener shown stuck in the tree', 30000);
    assert.ok(!tree.some((x) => x.label === 'main' && /^stuck/.test(x.description)), JSON.stringify(tree));
    await h.screenshot('gevent-stuck-tree');

    // The hover of the join line tells the chain.
    await h.openFile(PROGRAM);
    const hover = await onFailureShot(h, 'gevent join hover', () => h.waitFor(async () => {
      const text = await hoverLine(page, cycle.line, 'join', 5000).catch(() => '');
      return /Deadlock for/.test(text) ? text : undefined;
    }, 30000, 'the hover of the join line with the deadlock'));
    assert.match(hover, new RegExp(chain));
    await page.mouse.move(5, 5);
  });
});
