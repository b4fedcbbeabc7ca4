// The byte writer behind the Chrome JSON export writes numbers and text exactly as JSON.stringify.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JsonBytesWriter } from '../../src/core/jsonBytesWriter';

test('numbers are written as JSON writes them, integers digit by digit and the rest as JSON', () => {
  const values = [0, 7, 9, 10, 99, 100, 12345, 999999999, 4294967295, 4294967296, 2 ** 53 - 1, -1, -0, 1.5, 0.001, 1e21, 3.14159];
  for (const v of values) {
    const w = new JsonBytesWriter(4);
    w.num(v);
    assert.equal(Buffer.from(w.take()).toString('utf8'), JSON.stringify(v), String(v));
  }
});

test('text and pre-encoded pieces keep their UTF-8 bytes, across buffer growth', () => {
  const w = new JsonBytesWriter(2);
  const piece = w.encode('"\u2502 Task-1"');
  let expected = '';
  for (let i = 0; i < 50; i++) {
    w.bytes(piece); w.text(',"\u4efb\u52a1",'); w.num(i);
    expected += `"\u2502 Task-1","\u4efb\u52a1",${i}`;
  }
  w.bytes(new TextEncoder().encode('x'.repeat(100)));
  expected += 'x'.repeat(100);
  assert.equal(Buffer.from(w.take()).toString('utf8'), expected);
  assert.equal(w.pos, 0);
});
