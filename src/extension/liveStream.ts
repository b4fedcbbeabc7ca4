// The loopback socket a traced run streams its events over. Only the run that knows the per-run
// token can feed the view: the first line of a connection must equal it (compared in constant
// time); any other connection is destroyed. The first accepted connection is the traced program's
// own; with process handlers, each later one carries a child process's stream (a traced run's
// Python children connect with the same token) until the stream is disposed; without them the
// server closes after the first.
import * as net from 'node:net';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { StringDecoder } from 'node:string_decoder';

export interface LiveStreamHandlers {
  /** Event text after the token line, decoded as UTF-8 (split anywhere, the parser joins lines). */
  onData(text: string): void;
  /** The accepted connection ended (runtime finished or died). */
  onEnd(): void;
  /** The accepted connection failed. */
  onError?(err: Error): void;
  /** Text of a child process's connection (`key` unique per connection). */
  onProcessData?(key: string, text: string): void;
  /** A child process's connection ended. */
  onProcessEnd?(key: string): void;
}

/** Child process connections accepted at most per stream. */
const MAX_PROCESS_CONNECTIONS = 1024;

/** Longest first line accepted before the token check (a token is 64 hex characters). */
const MAX_TOKEN_LINE = 512;
/** A connection has this long to send its token. */
const AUTH_TIMEOUT_MS = 10_000;

export class LiveStream {
  readonly token = randomBytes(32).toString('hex');
  private server: net.Server | undefined;
  private accepted: net.Socket | undefined;
  private readonly pending = new Set<net.Socket>();
  private readonly children = new Set<net.Socket>();
  private childCount = 0;
  private ended = false;
  /** Connections refused (wrong token or too late); for tests and diagnostics. */
  rejected = 0;

  constructor(private readonly handlers: LiveStreamHandlers) {}

  get connected(): boolean { return this.accepted !== undefined; }
  get finished(): boolean { return this.ended; }
  /** Child process connections still open. */
  get openProcesses(): number { return this.children.size; }

  /** Listens on 127.0.0.1, port chosen by the OS. Resolves with the port. */
  listen(): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      const server = net.createServer((socket) => this.onConnection(socket));
      this.server = server;
      server.once('error', reject);
      server.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => {
        server.off('error', reject);
        server.on('error', () => undefined);
        const addr = server.address();
        if (addr && typeof addr === 'object') resolve(addr.port);
        else reject(new Error('no address'));
      });
    });
  }

  private get followsProcesses(): boolean { return this.handlers.onProcessData !== undefined; }

  private onConnection(socket: net.Socket): void {
    if ((this.accepted && !this.followsProcesses) || this.ended || this.childCount >= MAX_PROCESS_CONNECTIONS) {
      this.rejected++;
      socket.destroy();
      return;
    }
    this.pending.add(socket);
    let head = Buffer.alloc(0);
    const timer = setTimeout(() => reject(), AUTH_TIMEOUT_MS);
    const reject = () => {
      clearTimeout(timer);
      this.pending.delete(socket);
      this.rejected++;
      socket.destroy();
    };
    const onHead = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const nl = head.indexOf(0x0a);
      if (nl < 0) {
        if (head.length > MAX_TOKEN_LINE) reject();
        return;
      }
      let line = head.subarray(0, nl);
      if (line.length > 0 && line[line.length - 1] === 0x0d) line = line.subarray(0, line.length - 1);
      const expected = Buffer.from(this.token, 'utf8');
      const ok = line.length === expected.length && timingSafeEqual(line, expected);
      if (!ok || (this.accepted && !this.followsProcesses) || this.ended) {
        reject();
        return;
      }
      clearTimeout(timer);
      socket.off('data', onHead);
      socket.off('error', onEarlyError);
      socket.off('close', onEarlyClose);
      this.pending.delete(socket);
      if (this.accepted) this.acceptChild(socket, head.subarray(nl + 1));
      else this.accept(socket, head.subarray(nl + 1));
    };
    const onEarlyError = () => reject();
    const onEarlyClose = () => { clearTimeout(timer); this.pending.delete(socket); };
    socket.on('data', onHead);
    socket.on('error', onEarlyError);
    socket.on('close', onEarlyClose);
  }

  private acceptChild(socket: net.Socket, rest: Buffer): void {
    const key = `process-${++this.childCount}`;
    this.children.add(socket);
    socket.setNoDelay(true);
    const decoder = new StringDecoder('utf8');
    const data = (text: string) => { if (text) this.handlers.onProcessData?.(key, text); };
    if (rest.length) data(decoder.write(rest));
    socket.on('data', (chunk: Buffer) => data(decoder.write(chunk)));
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      this.children.delete(socket);
      data(decoder.end());
      this.handlers.onProcessEnd?.(key);
    };
    socket.on('end', finish);
    socket.on('close', finish);
    socket.on('error', finish);
  }

  private accept(socket: net.Socket, rest: Buffer): void {
    this.accepted = socket;
    if (!this.followsProcesses) {
      // Nothing else may connect now: stop listening, drop anyone still trying.
      this.server?.close();
      for (const s of this.pending) s.destroy();
      this.pending.clear();
    }
    socket.setNoDelay(true);
    const decoder = new StringDecoder('utf8');
    if (rest.length) this.handlers.onData(decoder.write(rest));
    socket.on('data', (chunk: Buffer) => {
      const text = decoder.write(chunk);
      if (text) this.handlers.onData(text);
    });
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      const tail = decoder.end();
      if (tail) this.handlers.onData(tail);
      this.ended = true;
      this.handlers.onEnd();
    };
    socket.on('end', finish);
    socket.on('close', finish);
    socket.on('error', (err) => {
      this.handlers.onError?.(err);
      finish();
    });
  }

  /** Stops listening and drops every connection (the accepted one included). */
  dispose(): void {
    this.ended = true;
    this.server?.close();
    for (const s of this.pending) s.destroy();
    this.pending.clear();
    this.accepted?.destroy();
    for (const s of this.children) s.destroy();
    this.children.clear();
  }
}
