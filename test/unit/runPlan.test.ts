import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  LineDiscipline, TailBuffer, buildRunEnv, buildRuntimeArgs, diagnoseStderr, formatCount, formatElapsed,
  isPythonScriptPath, isSupportedPython, mapRecordedPath, parseVersionProbe, resolveVariables, runLabel,
  toTerminalText, traceFileName, tracesToPrune,
} from '../../src/core/runPlan';

test('parseVersionProbe reads the probe output and `python --version`', () => {
  assert.deepEqual(parseVersionProbe('3.12.1\n/usr/bin/python3.12\n'), {
    version: { major: 3, minor: 12, micro: 1 }, executable: '/usr/bin/python3.12',
  });
  assert.deepEqual(parseVersionProbe('Python 3.8.18\r\n'), { version: { major: 3, minor: 8, micro: 18 }, executable: undefined });
  assert.deepEqual(parseVersionProbe('Python 3.13.0rc1'), { version: { major: 3, minor: 13, micro: 0 }, executable: undefined });
  assert.equal(parseVersionProbe(''), undefined);
  assert.equal(parseVersionProbe('bash: python: command not found'), undefined);
});

test('isSupportedPython: 3.9 and newer', () => {
  assert.equal(isSupportedPython({ major: 3, minor: 8, micro: 18 }), false);
  assert.equal(isSupportedPython({ major: 3, minor: 9, micro: 0 }), true);
  assert.equal(isSupportedPython({ major: 3, minor: 13, micro: 1 }), true);
  assert.equal(isSupportedPython({ major: 2, minor: 7, micro: 18 }), false);
  assert.equal(isSupportedPython({ major: 4, minor: 0, micro: 0 }), true);
});

test('resolveVariables: workspace, file, env, home', () => {
  const ctx = { workspaceFolder: '/ws/proj', file: '/ws/proj/src/app.py', userHome: '/home/u', env: { PORT: '8080' } };
  assert.equal(resolveVariables('${workspaceFolder}/data', ctx), '/ws/proj/data');
  assert.equal(resolveVariables('${workspaceFolderBasename}', ctx), 'proj');
  assert.equal(resolveVariables('${fileDirname}/x ${fileBasename}', ctx), '/ws/proj/src/x app.py');
  assert.equal(resolveVariables('--port=${env:PORT}${env:MISSING}', ctx), '--port=8080');
  assert.equal(resolveVariables('~/venv/bin/python', ctx), '/home/u/venv/bin/python');
  assert.equal(resolveVariables('${unknownVar}', ctx), '${unknownVar}');
  assert.equal(resolveVariables('${workspaceFolder}', { env: {} }), '${workspaceFolder}');
});

test('isPythonScriptPath', () => {
  assert.equal(isPythonScriptPath('/a/b.py'), true);
  assert.equal(isPythonScriptPath('C:\\a\\B.PYW'), true);
  assert.equal(isPythonScriptPath('/a/b.txt'), false);
  assert.equal(isPythonScriptPath('/a/py'), false);
});

test('buildRuntimeArgs: script and module, block threshold', () => {
  assert.deepEqual(
    buildRuntimeArgs({ runtimePackage: '/ext/src/runtime/asynctrace', target: { kind: 'script', path: '/p/prog.py' }, args: ['x', '--y'], port: 4321, outFile: '/t/a.jsonl', blockMs: 100 }),
    ['/ext/src/runtime/asynctrace', '--connect', '127.0.0.1:4321', '-o', '/t/a.jsonl', '--block-ms', '100', '/p/prog.py', 'x', '--y'],
  );
  assert.deepEqual(
    buildRuntimeArgs({ runtimePackage: 'R/asynctrace', target: { kind: 'module', name: 'app.server' }, args: [], port: 1, outFile: 'o.jsonl' }),
    ['R/asynctrace', '--connect', '127.0.0.1:1', '-o', 'o.jsonl', '-m', 'app.server'],
  );
  // Arguments that look like runtime options still go to the program (they come after the script).
  const argv = buildRuntimeArgs({ runtimePackage: 'R/asynctrace', target: { kind: 'script', path: 's.py' }, args: ['-o', 'evil'], port: 2, outFile: 'f', blockMs: 0 });
  assert.deepEqual(argv.slice(-3), ['s.py', '-o', 'evil']);
  assert.equal(argv.includes('--block-ms'), false);
});

test('buildRunEnv: runtime first on PYTHONPATH, unbuffered, token, settings override and unset', () => {
  const env = buildRunEnv({
    base: { PATH: '/bin', PYTHONPATH: '/user/lib', HOME: '/h', DROP: 'x', UNDEF: undefined },
    extra: { FOO: 'bar', DROP: null, PATH: '/custom/bin' },
    runtimeDir: '/ext/src/runtime', token: 'abc', delimiter: ':',
  });
  assert.equal(env.PYTHONPATH, '/ext/src/runtime:/user/lib');
  assert.equal(env.PYTHONUNBUFFERED, '1');
  assert.equal(env.ASYNCTRACE_TOKEN, 'abc');
  assert.equal(env.FOO, 'bar');
  assert.equal(env.PATH, '/custom/bin');
  assert.equal('DROP' in env, false);
  assert.equal('UNDEF' in env, false);
  const bare = buildRunEnv({ base: {}, extra: {}, runtimeDir: 'R', token: 't', delimiter: ';' });
  assert.equal(bare.PYTHONPATH, 'R');
  // A PYTHONPATH from the settings is kept after the runtime too.
  const fromSettings = buildRunEnv({ base: { PYTHONPATH: 'base' }, extra: { PYTHONPATH: 'mine' }, runtimeDir: 'R', token: 't', delimiter: ':' });
  assert.equal(fromSettings.PYTHONPATH, 'R:mine');
});

test('runLabel and traceFileName', () => {
  assert.equal(runLabel({ kind: 'script', path: '/a/b/03_create_task.py' }), '03_create_task.py');
  assert.equal(runLabel({ kind: 'module', name: 'app.main' }), '-m app.main');
  const when = new Date(2026, 10, 25, 9, 5, 7);
  assert.equal(traceFileName({ kind: 'script', path: '/x/my prog.py' }, when, 'ab12'), '20261125-090507-my_prog-ab12.jsonl');
  assert.equal(traceFileName({ kind: 'module', name: 'pkg.mod' }, when, 'z'), '20261125-090507-pkg.mod-z.jsonl');
});

test('tracesToPrune keeps the newest and never deletes files in use', () => {
  const files = Array.from({ length: 25 }, (_, i) => ({ name: `t${i}.jsonl`, mtimeMs: i }));
  files.push({ name: 'notes.txt', mtimeMs: 0 });
  const del = tracesToPrune(files, 20, new Set(['t0.jsonl']));
  assert.deepEqual(del.sort(), ['t1.jsonl', 't2.jsonl', 't3.jsonl', 't4.jsonl']);
  assert.deepEqual(tracesToPrune(files.slice(0, 3), 20, new Set()), []);
});

test('diagnoseStderr: gevent missing, runtime missing, traceback summary', () => {
  const gevent = [
    'Traceback (most recent call last):',
    '  File "/w/examples/08_gevent_spawn.py", line 2, in <module>',
    '    import gevent',
    "ModuleNotFoundError: No module named 'gevent'",
  ].join('\n');
  assert.deepEqual(diagnoseStderr(gevent), { kind: 'gevent-missing', summary: "ModuleNotFoundError: No module named 'gevent'" });
  assert.equal(diagnoseStderr("ModuleNotFoundError: No module named 'gevent.monkey'").kind, 'gevent-missing');
  assert.equal(diagnoseStderr("/usr/bin/python3: No module named asynctrace\n").kind, 'runtime-missing');
  assert.equal(diagnoseStderr("python3: can't open file '/x/src/runtime/asynctrace': [Errno 2] No such file or directory\n").kind, 'runtime-missing');
  assert.equal(diagnoseStderr("C:\\Python\\python.exe: can't open file 'C:\\x\\src\\runtime\\asynctrace': [Errno 2] No such file or directory").kind, 'runtime-missing');
  assert.equal(diagnoseStderr("ModuleNotFoundError: No module named 'greenlet'").kind, 'greenlet-missing');
  const other = 'Traceback (most recent call last):\n  File "x", line 1\nValueError: boom\n\n';
  assert.deepEqual(diagnoseStderr(other), { kind: 'other', summary: 'ValueError: boom' });
  assert.deepEqual(diagnoseStderr(''), { kind: 'other', summary: '' });
  assert.equal(diagnoseStderr("ModuleNotFoundError: No module named 'requests'").kind, 'other');
  assert.deepEqual(diagnoseStderr('asynctrace: error: Python 3.9 or newer is required (this is Python 3.8)\n'), {
    kind: 'runtime-too-old', summary: 'asynctrace: error: Python 3.9 or newer is required (this is Python 3.8)',
  });
});

test('TailBuffer keeps the end', () => {
  const t = new TailBuffer(10);
  for (let i = 0; i < 100; i++) t.push(String(i % 10));
  assert.equal(t.toString(), '0123456789');
});

test('toTerminalText converts newlines for xterm', () => {
  assert.equal(toTerminalText('hello\nworld\n'), 'hello\r\nworld\r\n');
  assert.equal(toTerminalText('a\r\nb'), 'a\r\nb');
  assert.equal(toTerminalText('no newline'), 'no newline');
});

test('LineDiscipline: echo, Enter, Backspace, Ctrl-U, Ctrl-C, Ctrl-D', () => {
  const ld = new LineDiscipline();
  let r = ld.feed('helo');
  assert.equal(r.echo, 'helo');
  assert.deepEqual(r.lines, []);
  r = ld.feed('\x7f\x7fllo\r');
  assert.equal(r.echo, '\b \b\b \bllo\r\n');
  assert.deepEqual(r.lines, ['hello\n']);
  // Pasted lines arrive together.
  r = ld.feed('a\rb\r');
  assert.deepEqual(r.lines, ['a\n', 'b\n']);
  // Backspace on an empty line echoes nothing.
  assert.equal(ld.feed('\x7f').echo, '');
  // Arrow keys are dropped, not sent.
  r = ld.feed('x\x1b[Ay');
  assert.equal(ld.pending, 'xy');
  r = ld.feed('\x15');
  assert.equal(ld.pending, '');
  assert.equal(r.echo, '\b \b\b \b');
  r = ld.feed('abc\x03');
  assert.equal(r.interrupt, true);
  assert.equal(ld.pending, '');
  assert.equal(r.echo, 'abc^C\r\n');
  // Ctrl-D with text sends it without a newline; on an empty line ends the input.
  r = ld.feed('par\x04');
  assert.deepEqual(r.lines, ['par']);
  assert.equal(r.endOfInput, false);
  r = ld.feed('\x04');
  assert.equal(r.endOfInput, true);
  assert.equal(ld.inputClosed, true);
  // After end of input, typing goes nowhere but Ctrl-C still interrupts.
  r = ld.feed('zz\r');
  assert.deepEqual(r.lines, []);
  assert.equal(ld.feed('\x03').interrupt, true);
  // Non-BMP characters are one unit for Backspace.
  const ld2 = new LineDiscipline();
  ld2.feed('a\u{1F600}');
  ld2.feed('\x7f');
  assert.equal(ld2.pending, 'a');
});

test('formatCount and formatElapsed', () => {
  assert.equal(formatCount(3400, 'en'), '3,400');
  assert.equal(formatCount(12), '12');
  assert.equal(formatElapsed(2100), '2.1 s');
  assert.equal(formatElapsed(125_000), '2 min 5 s');
  assert.equal(formatElapsed(-5), '0.0 s');
  assert.equal(formatElapsed(3_725_000), '1 h 2 min');
});

test('mapRecordedPath: below the recorded cwd first, then by path tail', () => {
  const c = mapRecordedPath('/srv/app/pkg/mod.py', '/srv/app', ['/home/me/app']);
  assert.equal(c[0], '/home/me/app/pkg/mod.py');
  assert.ok(c.includes('/home/me/app/mod.py'));
  const noCwd = mapRecordedPath('C:\\build\\proj\\src\\x.py', undefined, ['/ws']);
  assert.deepEqual(noCwd.slice(0, 2), ['/ws/build/proj/src/x.py', '/ws/proj/src/x.py']);
  assert.deepEqual(mapRecordedPath('/a/b.py', '/a', []), []);
});
