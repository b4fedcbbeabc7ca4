import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { LiveStream } from '../../src/extension/liveStream';

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => resolve(s));
    s.once('error', reject);
  });
}

/** Resolves when the socket is closed by the other side. */
function closed(s: net.Socket): Promise<void> {
  return new Promise((resolve) => {
    if (s.destroyed) resolve();
    s.on('error', () => undefined);
    s.once('close', () => resolve());
  });
}

function collector() {
  const got: string[] = [];
  let ended = false;
  let onEnd: () => void = () => undefined;
  const endedP = new Promise<void>((r) => { onEnd = r; });
  return {
    got, endedP,
    get ended() { return ended; },
    handlers: { onData: (t: string) => got.push(t), onEnd: () => { ended = true; onEnd(); } },
  };
}

test('listens on loopback only, with a fresh 64-hex token per stream', async () => {
  const a = new LiveStream(collector().handlers);
  const b = new LiveStream(collector().handlers);
  try {
    const port = await a.listen();
    assert.ok(port > 0);
    assert.match(a.token, /^[0-9a-f]{64}$/);
    assert.notEqual(a.token, b.token);
  } finally {
    a.dispose();
    b.dispose();
  }
});

test('a wrong token is refused; the right one streams events; later connections are refused', async () => {
  const c = collector();
  const stream = new LiveStream(c.handlers);
  const port = await stream.listen();
  try {
    const intruder = await connect(port);
    intruder.write('not-the-token\n{"type":"run","v":1}\n');
    await closed(intruder);
    assert.equal(stream.connected, false);
    assert.equal(stream.rejected, 1);
    assert.deepEqual(c.got, []);

    // A token of the right length but wrong content is refused too.
    const sameLength = await connect(port);
    sameLength.write('0'.repeat(64) + '\n');
    await closed(sameLength);
    assert.equal(stream.rejected, 2);

    const good = await connect(port);
    // Token and first events in one write, then a multi-byte character split across writes.
    const euro = Buffer.from('{"type":"site","id":1,"func":"\u20ac"}\n', 'utf8');
    const cut = euro.indexOf(0xe2) + 1;
    good.write(Buffer.concat([Buffer.from(`${stream.token}\n{"type":"run","v":1}\n`), euro.subarray(0, cut)]));
    await new Promise((r) => setTimeout(r, 50));
    good.write(euro.subarray(cut));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(stream.connected, true);

    // Only one connection per run: the server no longer accepts.
    await assert.rejects(connect(port).then(async (s) => {
      s.write(`${stream.token}\n`);
      await closed(s);
      throw new Error('closed');
    }));

    good.end();
    await c.endedP;
    assert.equal(c.got.join(''), '{"type":"run","v":1}\n{"type":"site","id":1,"func":"\u20ac"}\n');
    assert.equal(stream.finished, true);
  } finally {
    stream.dispose();
  }
});

test('a connection that never sends a newline within the size limit is dropped', async () => {
  const c = collector();
  const stream = new LiveStream(c.handlers);
  const port = await stream.listen();
  try {
    const s = await connect(port);
    s.write('x'.repeat(2000));
    await closed(s);
    assert.equal(stream.connected, false);
    assert.equal(stream.rejected, 1);
  } finally {
    stream.dispose();
  }
});

test('with process handlers, later connections with the token carry child process streams', async () => {
  const c = collector();
  const procs = new Map<string, string>();
  const ended: string[] = [];
  const stream = new LiveStream({
    ...c.handlers,
    onProcessData: (key, text) => procs.set(key, (procs.get(key) ?? '') + text),
    onProcessEnd: (key) => ended.push(key),
  });
  const port = await stream.listen();
  try {
    const main = await connect(port);
    main.write(`${stream.token}\n{"type":"run","v":1,"pid":1}\n`);
    await new Promise((r) => setTimeout(r, 50));
    const intruder = await connect(port);
    intruder.write('x'.repeat(64) + '\n{"type":"run"}\n');
    await closed(intruder);
    const child = await connect(port);
    child.write(`${stream.token}\n{"type":"run","v":1,"pid":2}\n`);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(stream.openProcesses, 1);
    child.end();
    await closed(child);
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual([...procs.values()], ['{"type":"run","v":1,"pid":2}\n']);
    assert.deepEqual(ended, ['process-1']);
    assert.equal(stream.openProcesses, 0);
    assert.equal(stream.rejected, 1);
    main.end();
    await c.endedP;
    assert.equal(c.got.join(''), '{"type":"run","v":1,"pid":1}\n');
  } finally {
    stream.dispose();
  }
});
