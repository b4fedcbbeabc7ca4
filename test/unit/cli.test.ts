import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { main } from '../../src/cli/asyncTrace';

const fixture = (name: string) => join(__dirname, 'fixtures', name);

async function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(args, { out: (s) => { out += `${s}\n`; }, err: (s) => { err += `${s}\n`; }, env });
  return { code, out, err };
}

/** A one-task trace whose run lasts `wallUs`. */
function trace(dir: string, name: string, wallUs: number): string {
  const p = join(dir, name);
  writeFileSync(p, [
    '{"type":"run","v":1,"pid":1,"python":"3.12.1","argv":["p.py"],"cwd":"/p","started":"2026-11-25T15:00:00.000Z"}',
    '{"type":"site","id":1,"file":"/p/p.py","line":3,"func":"main"}',
    '{"type":"task","id":1,"ts":0,"kind":"asyncio","name":"Task-1","coro":"main","parent":null,"site":null}',
    `{"type":"step","task":1,"ts":0,"dur":10,"await":{"stack":[1],"on":{"kind":"sleep","delay":1}}}`,
    `{"type":"step","task":1,"ts":${wallUs - 10},"dur":10}`,
    `{"type":"end","task":1,"ts":${wallUs},"state":"done"}`,
    `{"type":"exit","ts":${wallUs},"code":0,"dropped":0}`,
  ].join('\n') + '\n');
  return p;
}

test('compare as a CI gate: exit 1 only when B is slower than the threshold', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'at-cli-'));
  const a = trace(dir, 'a.jsonl', 1_000_000);
  const b = trace(dir, 'b.jsonl', 1_150_000);
  const slow = await cli(['compare', a, b, '--fail-if-slower', '10%']);
  assert.equal(slow.code, 1);
  assert.match(slow.err, /FAIL: B is slower than A by \+15 %/);
  assert.match(slow.out, /wall time 1\.00 s \u2192 1\.15 s/);
  assert.equal((await cli(['compare', a, b, '--fail-if-slower', '20%'])).code, 0);
  assert.equal((await cli(['compare', b, a, '--fail-if-slower=1%'])).code, 0);
  const json = await cli(['compare', a, b, '--json']);
  assert.equal(json.code, 0);
  const doc = JSON.parse(json.out);
  assert.equal(doc.before.wall, 1_000_000);
  assert.ok(Math.abs(doc.slower - 0.15) < 1e-9);
  assert.equal(doc.sites[0].after.total, 1_150_000 - 20);
});

test('usage errors exit 2 with a message; zh-cn from the environment', async () => {
  const r = await cli(['compare', 'only-one.jsonl']);
  assert.equal(r.code, 2);
  assert.match(r.err, /compare needs two trace files/);
  assert.equal((await cli(['frobnicate'])).code, 2);
  assert.equal((await cli(['compare', 'missing-a.jsonl', 'missing-b.jsonl'])).code, 2);
  const zh = await cli(['compare', 'x'], { LANG: 'zh_CN.UTF-8' });
  assert.match(zh.err, /compare 需要两个跟踪文件/);
  assert.match((await cli(['help', '--locale', 'zh-cn'])).out, /用法/);
});

test('export writes Perfetto (gzip) and Chrome JSON files', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'at-cli-'));
  const out = join(dir, 'x.perfetto-trace.gz');
  const r = await cli(['export', '--format', 'perfetto', fixture('04_gather.jsonl'), '-o', out]);
  assert.equal(r.code, 0, r.err);
  assert.ok(gunzipSync(readFileSync(out)).length > 100);
  const json = join(dir, 'x.json');
  assert.equal((await cli(['export', '--format', 'chrome', fixture('04_gather.jsonl'), '-o', json])).code, 0);
  assert.ok(Array.isArray(JSON.parse(readFileSync(json, 'utf8')).traceEvents));
  assert.equal((await cli(['export', '--format', 'svg', fixture('04_gather.jsonl')])).code, 2);
  assert.ok(!existsSync(`${out}.tmp`));
});
