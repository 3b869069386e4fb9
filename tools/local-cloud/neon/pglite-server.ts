import { randomInt } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import {
  backend,
  message as frame,
  frontend,
  lastReadyStatus,
  type Message,
  MessageReader,
  readCString,
} from './wire.ts';

export type PgliteServerOptions = {
  /** Directory for the database files; absent = in memory (tests). */
  dataDir?: string;
  host?: string;
  /** TCP port for the wire protocol; `0` picks a free one. */
  port: number;
  /** When set, clients must send this password (cleartext, as Neon's proxy asks); else trust. */
  password?: string;
  /** Postgres' `max_connections` analogue. Default 100. */
  maxConnections?: number;
  /**
   * How long a statement may wait for the single session while another connection holds it
   * (inside a transaction) before it fails with SQLSTATE 55P03. Default 15 s. Without it, an
   * application that awaits a second pooled connection inside a transaction would hang forever.
   */
  sessionWaitMs?: number;
};

export type PgliteServer = {
  readonly host: string;
  readonly port: number;
  readonly db: PGlite;
  close(): Promise<void>;
};

type Status = 'I' | 'T' | 'E';

/**
 * PGlite is one Postgres backend process: one session. This serves it on the wire protocol to many
 * connections without letting them corrupt each other:
 *
 * - a connection's messages run as whole units (a simple Query, or everything up to Sync/Flush),
 *   so extended-protocol exchanges never interleave;
 * - a connection that opens a transaction keeps the session until it commits or rolls back, so
 *   transactions are serialisable with respect to every other connection;
 * - named prepared statements and portals are renamed per connection, so two clients that both
 *   prepare `s1` do not collide, and they are closed when their connection ends;
 * - a connection that drops mid-transaction is rolled back.
 *
 * What stays shared, because it is one session: `SET` (outside a transaction), temporary tables,
 * advisory locks, LISTEN/NOTIFY and SQL-level `PREPARE`. The README lists these limits.
 */
export async function startPgliteServer(options: PgliteServerOptions): Promise<PgliteServer> {
  const host = options.host ?? '127.0.0.1';
  // PGlite creates its own directory but not missing parents.
  if (options.dataDir) await mkdir(dirname(options.dataDir), { recursive: true });
  const db = await PGlite.create(options.dataDir ? { dataDir: options.dataDir } : {});
  const parameters = await startupParameters(db);
  const lock = new SessionLock();
  const connections = new Set<Connection>();
  const maxConnections = options.maxConnections ?? 100;
  const sessionWaitMs = options.sessionWaitMs ?? 15_000;
  let nextId = 1;

  const server = createServer((socket) => {
    socket.setNoDelay(true);
    const connection = new Connection(nextId++, socket, {
      db,
      lock,
      parameters,
      password: options.password,
      sessionWaitMs,
      tooMany: () => connections.size > maxConnections,
      onClose: () => connections.delete(connection),
    });
    connections.add(connection);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;

  let closing: Promise<void> | undefined;
  return {
    host,
    port,
    db,
    close() {
      closing ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          for (const c of connections) c.destroy();
        });
        // Give dropped connections a moment to roll back before the database goes away.
        await Promise.race([lock.idle(), new Promise((r) => setTimeout(r, 2_000))]);
        await db.close();
      })();
      return closing;
    },
  };
}

/** The ParameterStatus values PGlite itself reports at startup (server_version, TimeZone...). */
async function startupParameters(db: PGlite): Promise<Array<[string, string]>> {
  const out = Buffer.from(
    await db.execProtocolRaw(frontend.startup({ user: 'postgres', database: 'postgres' })),
  );
  const reader = new MessageReader();
  reader.push(out);
  const params: Array<[string, string]> = [];
  for (let m = reader.next(); m !== 'incomplete' && m !== 'invalid'; m = reader.next()) {
    if (m.type !== 'S') continue;
    const [name, offset] = readCString(m.body, 0);
    const [value] = readCString(m.body, offset);
    params.push([name, value]);
  }
  return params;
}

type ConnectionContext = {
  db: PGlite;
  lock: SessionLock;
  parameters: Array<[string, string]>;
  password: string | undefined;
  sessionWaitMs: number;
  tooMany: () => boolean;
  onClose: () => void;
};

type Job = { bytes: Buffer; endsWith: 'sync' | 'flush' | 'other' };

class Connection {
  private readonly reader = new MessageReader();
  private phase: 'startup' | 'auth' | 'ready' | 'closed' = 'startup';
  private user = 'postgres';
  private extended: Buffer[] = [];
  private readonly statements = new Set<string>();
  private status: Status = 'I';
  private chain: Promise<void> = Promise.resolve();
  private skipUntilSync = false;
  private applicationName: string | undefined;

  private readonly id: number;
  private readonly socket: Socket;
  private readonly ctx: ConnectionContext;

  constructor(id: number, socket: Socket, ctx: ConnectionContext) {
    this.id = id;
    this.socket = socket;
    this.ctx = ctx;
    socket.on('data', (chunk) => {
      try {
        this.onData(chunk);
      } catch {
        // A message whose declared length and contents disagree (an unterminated name, say).
        this.fatal('08P01', 'invalid frontend message');
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => this.onSocketClose());
  }

  destroy(): void {
    this.socket.destroy();
  }

  private write(bytes: Uint8Array): void {
    if (this.phase !== 'closed' && !this.socket.destroyed) this.socket.write(bytes);
  }

  private fatal(code: string, message: string): void {
    this.write(backend.error({ severity: 'FATAL', code, message }));
    this.socket.end();
    this.phase = 'closed';
  }

  private onData(chunk: Buffer): void {
    this.reader.push(chunk);
    while (this.phase !== 'closed') {
      if (this.phase === 'startup') {
        const packet = this.reader.nextStartup();
        if (packet === 'incomplete') return;
        if (packet === 'invalid') {
          this.fatal('08P01', 'invalid length of startup packet');
          return;
        }
        if (packet.kind === 'ssl' || packet.kind === 'gssenc') {
          this.socket.write('N');
          continue;
        }
        if (packet.kind === 'cancel') {
          // PGlite cannot interrupt a running statement; Postgres also answers a cancel with silence.
          this.socket.end();
          this.phase = 'closed';
          return;
        }
        if (packet.kind === 'unsupported') {
          this.fatal(
            '0A000',
            `unsupported frontend protocol ${packet.code >> 16}.${packet.code & 0xffff}`,
          );
          return;
        }
        if (packet.kind !== 'startup') continue;
        if (this.ctx.tooMany()) {
          this.fatal('53300', 'sorry, too many clients already');
          return;
        }
        this.user = packet.params.user ?? 'postgres';
        if (this.ctx.password === undefined) {
          this.ready(packet.params.application_name);
        } else {
          this.socket.write(backend.authenticationCleartextPassword());
          this.phase = 'auth';
          this.applicationName = packet.params.application_name;
        }
        continue;
      }

      const message = this.reader.next();
      if (message === 'incomplete') return;
      if (message === 'invalid') {
        this.fatal('08P01', 'invalid message length');
        return;
      }
      if (this.phase === 'auth') {
        if (message.type !== 'p') {
          this.fatal('08P01', `expected password response, got message type ${message.raw[0]}`);
          return;
        }
        const [password] = readCString(message.body, 0);
        if (password !== this.ctx.password) {
          this.fatal('28P01', `password authentication failed for user "${this.user}"`);
          return;
        }
        this.ready(this.applicationName);
        continue;
      }
      this.onMessage(message);
    }
  }

  private ready(applicationName: string | undefined): void {
    const out = [backend.authenticationOk()];
    for (const [name, value] of this.ctx.parameters) {
      const v = name === 'application_name' ? (applicationName ?? '') : value;
      out.push(backend.parameterStatus(name, v));
    }
    out.push(backend.backendKeyData(this.id, randomInt(1, 2 ** 31 - 1)));
    out.push(backend.readyForQuery('I'));
    this.socket.write(Buffer.concat(out));
    this.phase = 'ready';
  }

  private onMessage(message: Message): void {
    switch (message.type) {
      case 'X':
        this.socket.end();
        return;
      case 'Q':
        this.enqueue({ bytes: message.raw, endsWith: 'sync' });
        return;
      case 'P':
      case 'B':
      case 'D':
      case 'C':
      case 'E':
        this.extended.push(this.rename(message));
        return;
      case 'H':
      case 'S': {
        const bytes = Buffer.concat([...this.extended, message.raw]);
        this.extended = [];
        this.enqueue({ bytes, endsWith: message.type === 'S' ? 'sync' : 'flush' });
        return;
      }
      case 'd':
      case 'c':
      case 'f':
      case 'F':
        this.enqueue({ bytes: message.raw, endsWith: 'other' });
        return;
      default:
        this.fatal('08P01', `invalid frontend message type ${message.raw[0]}`);
    }
  }

  /** Prefixes statement and portal names with the connection id (empty names stay unnamed). */
  private rename(message: Message): Buffer {
    const prefix = `c${this.id}_`;
    const named = (name: string) => (name === '' ? '' : prefix + name);
    const body = message.body;
    let parts: Buffer[];
    switch (message.type) {
      case 'P': {
        const [name, rest] = readCString(body, 0);
        if (name !== '') this.statements.add(named(name));
        parts = [cstr(named(name)), body.subarray(rest)];
        break;
      }
      case 'B': {
        const [portal, afterPortal] = readCString(body, 0);
        const [statement, rest] = readCString(body, afterPortal);
        parts = [cstr(named(portal)), cstr(named(statement)), body.subarray(rest)];
        break;
      }
      case 'E': {
        const [portal, rest] = readCString(body, 0);
        parts = [cstr(named(portal)), body.subarray(rest)];
        break;
      }
      default: {
        // Describe and Close: a kind byte ('S' statement or 'P' portal), then the name.
        const kind = body.subarray(0, 1);
        const [name] = readCString(body, 1);
        if (message.type === 'C' && kind[0] === 0x53) this.statements.delete(named(name));
        parts = [kind, cstr(named(name))];
      }
    }
    return frame(message.type, Buffer.concat(parts));
  }

  private enqueue(job: Job): void {
    this.chain = this.chain.then(() => this.run(job));
  }

  private async run(job: Job): Promise<void> {
    if (this.phase === 'closed') return;
    if (this.skipUntilSync) {
      // After a Flush batch failed to get the session, Postgres semantics say: ignore until Sync.
      if (job.endsWith !== 'sync') return;
      this.skipUntilSync = false;
      this.write(backend.readyForQuery(this.status));
      return;
    }
    const waitMs = this.ctx.lock.owner === this.id ? undefined : this.ctx.sessionWaitMs;
    try {
      await this.ctx.lock.acquire(this.id, waitMs);
    } catch {
      this.write(
        backend.error({
          severity: 'ERROR',
          code: '55P03',
          message:
            'could not obtain the database session: another connection holds it in a transaction',
          detail: `PGlite has a single session; waited ${waitMs} ms (see the README's PGlite limits).`,
        }),
      );
      if (job.endsWith === 'sync') this.write(backend.readyForQuery(this.status));
      else this.skipUntilSync = true;
      return;
    }
    let out: Uint8Array;
    try {
      out = await this.ctx.db.execProtocolRaw(job.bytes);
    } catch (error) {
      // PGlite itself failed (not an SQL error, which arrives as an ErrorResponse in `out`).
      this.write(
        backend.error({ severity: 'ERROR', code: 'XX000', message: `PGlite: ${String(error)}` }),
      );
      if (job.endsWith === 'sync') this.write(backend.readyForQuery('I'));
      this.ctx.lock.release(this.id);
      return;
    }
    this.write(out);
    const status = lastReadyStatus(out);
    if (status) this.status = status;
    if (status === 'I') this.ctx.lock.release(this.id);
  }

  private onSocketClose(): void {
    const wasReady = this.phase === 'ready';
    this.phase = 'closed';
    if (!wasReady) {
      this.ctx.onClose();
      return;
    }
    // Clean up after the queued work: roll back an open transaction, close named statements.
    this.chain = this.chain.then(async () => {
      const lock = this.ctx.lock;
      const needsCleanup = lock.owner === this.id || this.statements.size > 0;
      if (needsCleanup) {
        await lock.acquire(this.id);
        try {
          if (this.status !== 'I' || lock.owner === this.id) {
            await this.ctx.db.execProtocolRaw(frontend.query('ROLLBACK'));
          }
          if (this.statements.size > 0) {
            const closes = [...this.statements].map((name) =>
              frame('C', Buffer.concat([Buffer.from('S'), cstr(name)])),
            );
            await this.ctx.db.execProtocolRaw(
              Buffer.concat([...closes, frame('S', Buffer.alloc(0))]),
            );
          }
        } catch {
          // The database is closing; nothing left to clean.
        } finally {
          lock.release(this.id);
        }
      }
      this.ctx.onClose();
    });
  }
}

function cstr(value: string): Buffer {
  return Buffer.from(`${value}\0`, 'utf8');
}

/**
 * A mutex over the one PGlite session with an owner, re-entrant for its owner, FIFO for waiters,
 * and an optional wait limit per acquisition.
 */
class SessionLock {
  owner: number | undefined;
  private readonly waiters: Array<{ id: number; grant: () => void }> = [];
  private idleWaiters: Array<() => void> = [];

  acquire(id: number, timeoutMs?: number): Promise<void> {
    if (this.owner === undefined || this.owner === id) {
      this.owner = id;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const waiter = {
        id,
        grant: () => {
          if (timer) clearTimeout(timer);
          resolve();
        },
      };
      const timer =
        timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              const i = this.waiters.indexOf(waiter);
              if (i >= 0) this.waiters.splice(i, 1);
              reject(new Error('session wait timed out'));
            }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  release(id: number): void {
    if (this.owner !== id) return;
    const next = this.waiters.shift();
    this.owner = next?.id;
    if (next) next.grant();
    else {
      for (const resolve of this.idleWaiters) resolve();
      this.idleWaiters = [];
    }
  }

  /** Resolves when nobody holds the session (for a clean shutdown). */
  idle(): Promise<void> {
    if (this.owner === undefined) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }
}
