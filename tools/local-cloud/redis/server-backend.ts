import { createHash } from 'node:crypto';
import type { Backend, CommandClass } from './backend.ts';
import { type Argv, ErrorReply, type Reply, type Status } from './reply.ts';
import { parseRedisUrl, type RedisTarget, RespConnection } from './resp.ts';
import { unavailable } from './rest-errors.ts';

/** Connections shared by pipelined commands (one request's commands stay on one of them). */
const SHARED_CONNECTIONS = 4;
/** Idle exclusive connections kept for MULTI/EXEC and blocking commands. */
const MAX_IDLE_EXCLUSIVE = 4;
/** A blocking command may wait this long at most; longer (or forever) breaks the REST model. */
export const MAX_BLOCK_MS = 10_000;

const sha1 = (bytes: string) =>
  createHash('sha1').update(Buffer.from(bytes, 'latin1')).digest('hex');

/**
 * Upstash accepts `allow-key-locking` in a script shebang (@upstash/ratelimit sends it); Redis 7
 * rejects unknown flags. Strips it and returns the body Redis gets, or undefined when unchanged.
 */
export function stripUpstashFlags(body: string): string | undefined {
  if (!body.startsWith('#!')) return undefined;
  const end = body.indexOf('\n');
  const line = end < 0 ? body : body.slice(0, end);
  if (!line.includes('allow-key-locking')) return undefined;
  const rewritten = line
    .split(/([ \t]+)/)
    .map((part) => {
      if (!part.startsWith('flags=')) return part;
      const flags = part
        .slice(6)
        .split(',')
        .filter((f) => f !== 'allow-key-locking');
      return `flags=${flags.join(',')}`;
    })
    .join('');
  return end < 0 ? rewritten : rewritten + body.slice(end);
}

/** The timeout of a blocking command in ms; undefined when it does not block this time. */
function blockingTimeout(argv: Argv): number | undefined {
  const name = (argv[0] as string).toLowerCase();
  const seconds = (s: string | undefined) => (s === undefined ? Number.NaN : Number(s) * 1000);
  switch (name) {
    case 'blpop':
    case 'brpop':
    case 'bzpopmin':
    case 'bzpopmax':
    case 'brpoplpush':
    case 'blmove':
      return seconds(argv.at(-1));
    case 'blmpop':
    case 'bzmpop':
      return seconds(argv[1]);
    case 'xread':
    case 'xreadgroup': {
      const at = argv.findIndex((a, i) => i > 0 && a.toLowerCase() === 'block');
      return at < 0 ? undefined : Number(argv[at + 1]);
    }
    case 'wait':
      return Number(argv[2]);
    case 'waitaof':
      return Number(argv[3]);
    default:
      return Number.NaN;
  }
}

/**
 * A Redis server behind the REST API, over the hand-written RESP2 client. Independent commands
 * are pipelined on a few shared sockets; MULTI/EXEC and blocking commands take a connection of
 * their own so nothing else can interleave or wait behind them.
 */
export class ServerBackend implements Backend {
  readonly kind = 'server';
  private readonly target: RedisTarget;
  private readonly shared: (RespConnection | Promise<RespConnection> | undefined)[] = [];
  private readonly idle: RespConnection[] = [];
  private readonly busy = new Set<RespConnection>();
  private readonly flags = new Map<string, Set<string>>();
  /** sha1 of a script as the client sent it → sha1 of the body Redis got. */
  private readonly shaMap = new Map<string, string>();
  private next = 0;
  private closed = false;

  private constructor(url: string) {
    this.target = parseRedisUrl(url);
  }

  /** Connects (failing fast on a bad URL or password) and reads the server's command table. */
  static async connect(url: string): Promise<ServerBackend> {
    const backend = new ServerBackend(url);
    const conn = await backend.sharedConnection();
    const table = await conn.send(['COMMAND']);
    if (table instanceof ErrorReply) throw new Error(`COMMAND failed: ${table.message}`);
    for (const info of table as Reply[][]) {
      const name = info[0] as string;
      const flags = new Set((info[2] as Status[]).map((f) => f.value));
      backend.flags.set(name, flags);
      for (const sub of (info[9] as Reply[][] | undefined) ?? []) {
        backend.flags.set(sub[0] as string, new Set((sub[2] as Status[]).map((f) => f.value)));
      }
    }
    return backend;
  }

  classify(argv: Argv): CommandClass {
    const name = (argv[0] as string).toLowerCase();
    const flags =
      (argv.length > 1 && this.flags.get(`${name}|${(argv[1] as string).toLowerCase()}`)) ||
      this.flags.get(name);
    if (flags === undefined) return { known: false, write: false, blocking: false };
    const write = flags.has('write') || name === 'eval' || name === 'evalsha' || name === 'fcall';
    return {
      known: true,
      write,
      blocking: flags.has('blocking') && blockingTimeout(argv) !== undefined,
    };
  }

  private sharedConnection(): Promise<RespConnection> {
    const i = this.next++ % SHARED_CONNECTIONS;
    const current = this.shared[i];
    if (current instanceof RespConnection && !current.dead) return Promise.resolve(current);
    if (current instanceof Promise) return current;
    const opening = RespConnection.open(this.target).then(
      (conn) => {
        this.shared[i] = conn;
        return conn;
      },
      (error: unknown) => {
        this.shared[i] = undefined;
        throw error;
      },
    );
    this.shared[i] = opening;
    return opening;
  }

  private async exclusive<T>(work: (conn: RespConnection) => Promise<T>): Promise<T> {
    let conn = this.idle.pop();
    while (conn?.dead) conn = this.idle.pop();
    conn ??= await RespConnection.open(this.target);
    this.busy.add(conn);
    try {
      return await work(conn);
    } finally {
      this.busy.delete(conn);
      if (!conn.dead && !this.closed && this.idle.length < MAX_IDLE_EXCLUSIVE) this.idle.push(conn);
      else conn.close();
    }
  }

  /** Rewrites script commands for Redis; returns the command and how to fix its reply. */
  private prepare(argv: Argv): { argv: Argv; fix: (reply: Reply) => Reply } {
    const name = (argv[0] as string).toLowerCase();
    const same = { argv, fix: (reply: Reply) => reply };
    const mapError = (from: string, to: string) => (reply: Reply) =>
      reply instanceof ErrorReply && reply.message.includes(from)
        ? new ErrorReply(reply.message.replaceAll(from, to))
        : reply;
    if (name === 'eval' || name === 'eval_ro') {
      const body = argv[1] as string;
      const stripped = body === undefined ? undefined : stripUpstashFlags(body);
      if (stripped === undefined) return same;
      const original = sha1(body);
      const sent = sha1(stripped);
      this.shaMap.set(original, sent);
      return {
        argv: [argv[0] as string, stripped, ...argv.slice(2)],
        fix: mapError(sent, original),
      };
    }
    if ((name === 'evalsha' || name === 'evalsha_ro') && argv[1] !== undefined) {
      const original = (argv[1] as string).toLowerCase();
      const sent = this.shaMap.get(original);
      if (sent === undefined) return same;
      return { argv: [argv[0] as string, sent, ...argv.slice(2)], fix: mapError(sent, original) };
    }
    if (name === 'script' && argv.length >= 3) {
      const sub = (argv[1] as string).toLowerCase();
      if (sub === 'load' && argv.length === 3) {
        const body = argv[2] as string;
        const stripped = stripUpstashFlags(body);
        if (stripped === undefined) return same;
        const original = sha1(body);
        this.shaMap.set(original, sha1(stripped));
        return {
          argv: [argv[0] as string, argv[1] as string, stripped],
          fix: (reply) => (typeof reply === 'string' ? original : reply),
        };
      }
      if (sub === 'exists') {
        return {
          argv: argv.map((a, i) => (i < 2 ? a : (this.shaMap.get(a.toLowerCase()) ?? a))),
          fix: same.fix,
        };
      }
    }
    return same;
  }

  private refuseBlocking(argv: Argv): ErrorReply | undefined {
    const timeout = blockingTimeout(argv);
    if (timeout === undefined || Number.isNaN(timeout)) return undefined;
    if (timeout === 0 || timeout > MAX_BLOCK_MS)
      return new ErrorReply(unavailable(argv[0] as string));
    return undefined;
  }

  async pipeline(commands: Argv[]): Promise<Reply[]> {
    const out: Reply[] = [];
    // Runs of non-blocking commands share a socket; a blocking command waits on its own.
    let run: { argv: Argv; fix: (r: Reply) => Reply }[] = [];
    const flush = async () => {
      if (run.length === 0) return;
      const batch = run;
      run = [];
      const conn = await this.sharedConnection();
      const replies = await conn.pipeline(batch.map((c) => c.argv));
      for (let i = 0; i < replies.length; i++) {
        out.push((batch[i] as { fix: (r: Reply) => Reply }).fix(replies[i] as Reply));
      }
    };
    for (const argv of commands) {
      if (this.classify(argv).blocking) {
        await flush();
        const refused = this.refuseBlocking(argv);
        out.push(refused ?? (await this.exclusive((conn) => conn.send(argv))));
      } else {
        run.push(this.prepare(argv));
      }
    }
    await flush();
    return out;
  }

  async transaction(commands: Argv[]): Promise<Reply[] | ErrorReply> {
    const prepared = commands.map((argv) => this.prepare(argv));
    return this.exclusive(async (conn) => {
      const replies = await conn.pipeline([['MULTI'], ...prepared.map((p) => p.argv), ['EXEC']]);
      const exec = replies.at(-1) as Reply;
      if (exec instanceof ErrorReply || !Array.isArray(exec)) {
        return exec instanceof ErrorReply
          ? exec
          : new ErrorReply('EXECABORT Transaction discarded');
      }
      return exec.map((reply, i) => (prepared[i] as { fix: (r: Reply) => Reply }).fix(reply));
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const conn of this.shared) {
      if (conn instanceof RespConnection) conn.close();
      else if (conn)
        void conn.then(
          (c) => c.close(),
          () => {},
        );
    }
    for (const conn of this.idle.splice(0)) conn.close();
    for (const conn of this.busy) conn.close();
  }
}
