import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { type Argv, ErrorReply, type Reply, Status } from './reply.ts';

/*
 * A small hand-written RESP2 client. Client libraries (ioredis, node-redis) turn `+OK` and `$2\r\nOK`
 * into the same JS string, but the Upstash REST encoding treats them differently (only the status
 * `OK` escapes base64), so the parser here keeps every reply type apart.
 */

const CR = 13;

/** Encodes one command as a RESP array of bulk strings. Args are byte strings. */
export function encodeCommand(argv: Argv): Buffer {
  let size = 0;
  for (const arg of argv) size += arg.length;
  const buf = Buffer.allocUnsafe(16 + argv.length * 16 + size);
  let at = buf.write(`*${argv.length}\r\n`, 0, 'latin1');
  for (const arg of argv) {
    at += buf.write(`$${arg.length}\r\n`, at, 'latin1');
    at += buf.write(arg, at, 'latin1');
    buf[at++] = CR;
    buf[at++] = 10;
  }
  return buf.subarray(0, at);
}

type Frame = { items: Reply[]; remaining: number };

/**
 * Incremental RESP2 parser: feed it chunks, it calls `onReply` for every complete top-level reply.
 * Partial arrays are kept on a stack so a large reply arriving in many chunks is parsed once.
 */
export class RespParser {
  private buf: Buffer = Buffer.alloc(0);
  private at = 0;
  private readonly stack: Frame[] = [];
  private readonly onReply: (reply: Reply) => void;

  constructor(onReply: (reply: Reply) => void) {
    this.onReply = onReply;
  }

  feed(chunk: Buffer): void {
    this.buf =
      this.at < this.buf.length ? Buffer.concat([this.buf.subarray(this.at), chunk]) : chunk;
    this.at = 0;
    for (;;) {
      const value = this.next();
      if (value === undefined) break;
      this.push(value);
    }
  }

  /** One scalar or array header from the buffer, or `undefined` when it is incomplete. */
  private next(): Reply | Frame | undefined {
    const buf = this.buf;
    const start = this.at;
    if (start >= buf.length) return undefined;
    const eol = buf.indexOf('\r\n', start + 1, 'latin1');
    if (eol < 0) return undefined;
    const type = buf[start];
    const line = buf.toString('latin1', start + 1, eol);
    switch (type) {
      case 0x2b /* + */:
        this.at = eol + 2;
        return new Status(line);
      case 0x2d /* - */:
        this.at = eol + 2;
        return new ErrorReply(line);
      case 0x3a /* : */:
        {
          this.at = eol + 2;
          const n = Number(line);
          return Number.isSafeInteger(n) ? n : BigInt(line);
        }
      case 0x24 /* $ */:
        {
          const len = Number(line);
          if (len < 0) {
            this.at = eol + 2;
            return null;
          }
          if (eol + 2 + len + 2 > buf.length) return undefined;
          this.at = eol + 2 + len + 2;
          return buf.toString('latin1', eol + 2, eol + 2 + len);
        }
      case 0x2a /* * */:
        {
          const len = Number(line);
          this.at = eol + 2;
          if (len < 0) return null;
          return { items: [], remaining: len };
        }
      default:
        throw new Error(`RESP protocol error: unexpected byte ${type}`);
    }
  }

  private push(value: Reply | Frame): void {
    let item: Reply;
    if (value !== null && typeof value === 'object' && 'remaining' in value) {
      if (value.remaining > 0) {
        this.stack.push(value);
        return;
      }
      item = value.items;
    } else {
      item = value;
    }
    for (;;) {
      const top = this.stack.at(-1);
      if (!top) {
        this.onReply(item);
        return;
      }
      top.items.push(item);
      if (--top.remaining > 0) return;
      this.stack.pop();
      item = top.items;
    }
  }
}

export type RedisTarget = {
  host: string;
  port: number;
  tls: boolean;
  username?: string;
  password?: string;
  db: number;
};

/** Parses `redis://[user:pass@]host[:port][/db]` (or `rediss://` for TLS). */
export function parseRedisUrl(url: string): RedisTarget {
  const u = new URL(url);
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new Error(`not a redis:// URL: ${url}`);
  }
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0;
  return {
    host: u.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
    port: u.port ? Number(u.port) : 6379,
    tls: u.protocol === 'rediss:',
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    db: Number.isInteger(db) ? db : 0,
  };
}

type Pending = { resolve: (reply: Reply) => void; reject: (error: Error) => void };

/**
 * One connection to a Redis server. Commands are pipelined: replies come back in order and settle
 * the oldest pending promise. When the socket dies every pending command is rejected and `dead`
 * turns true, so a pool can replace it.
 */
export class RespConnection {
  private readonly socket: Socket;
  private readonly pending: Pending[] = [];
  private readonly parser: RespParser;
  private failure: Error | undefined;
  readonly ready: Promise<void>;

  private constructor(target: RedisTarget) {
    this.parser = new RespParser((reply) => this.pending.shift()?.resolve(reply));
    this.socket = target.tls
      ? tlsConnect({ host: target.host, port: target.port, servername: target.host })
      : netConnect({ host: target.host, port: target.port });
    this.socket.setNoDelay(true);
    this.socket.on('data', (chunk: Buffer) => {
      try {
        this.parser.feed(chunk);
      } catch (error) {
        this.fail(error as Error);
      }
    });
    this.socket.on('error', (error) => this.fail(error));
    this.socket.on('close', () => this.fail(new Error('connection to Redis closed')));
    this.ready = new Promise<void>((resolve, reject) => {
      const event = target.tls ? 'secureConnect' : 'connect';
      this.socket.once(event, () => resolve());
      this.socket.once('error', reject);
    });
  }

  /** Opens a connection, authenticates and selects the database of the target. */
  static async open(target: RedisTarget): Promise<RespConnection> {
    const conn = new RespConnection(target);
    await conn.ready;
    const setup: Argv[] = [];
    if (target.password !== undefined) {
      setup.push(
        target.username ? ['AUTH', target.username, target.password] : ['AUTH', target.password],
      );
    }
    if (target.db !== 0) setup.push(['SELECT', String(target.db)]);
    for (const reply of await conn.pipeline(setup)) {
      if (reply instanceof ErrorReply) {
        conn.close();
        throw new Error(`Redis refused the connection setup: ${reply.message}`);
      }
    }
    return conn;
  }

  get dead(): boolean {
    return this.failure !== undefined;
  }

  /** Commands waiting for their reply: a pool spreads work by this. */
  get load(): number {
    return this.pending.length;
  }

  send(argv: Argv): Promise<Reply> {
    return this.pipeline([argv]).then((replies) => replies[0] as Reply);
  }

  /** Writes all commands at once; resolves with their replies in order. */
  pipeline(commands: Argv[]): Promise<Reply[]> {
    if (this.failure) return Promise.reject(this.failure);
    if (commands.length === 0) return Promise.resolve([]);
    const promises = commands.map(
      () => new Promise<Reply>((resolve, reject) => this.pending.push({ resolve, reject })),
    );
    this.socket.write(
      commands.length === 1
        ? encodeCommand(commands[0] as Argv)
        : Buffer.concat(commands.map(encodeCommand)),
    );
    return Promise.all(promises);
  }

  close(): void {
    this.fail(new Error('connection closed'));
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const p of this.pending.splice(0)) p.reject(this.failure);
    if (!this.socket.destroyed) this.socket.destroy();
  }
}
