import { OK, PONG, type Reply, Status } from '../reply.ts';
import { type CommandTable, is, READONLY, WRITE } from './command.ts';
import { E, fail, invalidExpire, wrongArity } from './errors.ts';
import { globMatch } from './glob.ts';
import type { Engine } from './index.ts';
import type { Entry } from './keyspace.ts';
import { intArg, parseBigInt } from './numbers.ts';

const LLONG_MAX = 9223372036854775807n;
const LLONG_MIN = -9223372036854775808n;

/** EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT with NX/XX/GT/LT, following `expireGenericCommand`. */
function expireGeneric(engine: Engine, argv: string[], relative: boolean, seconds: boolean): Reply {
  const db = engine.db;
  const key = argv[1] as string;
  let nx = false;
  let xx = false;
  let gt = false;
  let lt = false;
  for (let j = 3; j < argv.length; j++) {
    const opt = (argv[j] as string).toLowerCase();
    if (opt === 'nx') nx = true;
    else if (opt === 'xx') xx = true;
    else if (opt === 'gt') gt = true;
    else if (opt === 'lt') lt = true;
    else fail(`ERR Unsupported option ${argv[j]}`);
  }
  if ((nx && xx) || (nx && gt) || (nx && lt)) {
    fail('ERR NX and XX, GT or LT options at the same time are not compatible');
  }
  if (gt && lt) fail('ERR GT and LT options at the same time are not compatible');

  const name = (argv[0] as string).toLowerCase();
  let when = parseBigInt(argv[2] as string) ?? fail(E.notInteger);
  if (seconds) {
    if (when > LLONG_MAX / 1000n || when < LLONG_MIN / 1000n) fail(invalidExpire(name));
    when *= 1000n;
  }
  const base = relative ? BigInt(db.now()) : 0n;
  if (when > LLONG_MAX - base) fail(invalidExpire(name));
  when += base;

  if (!db.exists(key)) return 0;
  if (nx || xx || gt || lt) {
    const at = db.expires.get(key);
    const current = at === undefined ? -1n : BigInt(at);
    if (nx && current !== -1n) return 0;
    if (xx && current === -1n) return 0;
    if (gt && (when <= current || current === -1n)) return 0;
    if (lt && current !== -1n && when >= current) return 0;
  }
  if (when <= BigInt(db.now())) {
    db.delete(key);
    return 1;
  }
  db.setExpire(key, Number(when));
  return 1;
}

function ttlGeneric(engine: Engine, key: string, ms: boolean): Reply {
  const db = engine.db;
  if (!db.exists(key)) return -2;
  const at = db.expires.get(key);
  if (at === undefined) return -1;
  const ttl = Math.max(0, at - db.now());
  return ms ? ttl : Math.floor((ttl + 500) / 1000);
}

function expireTime(engine: Engine, key: string, ms: boolean): Reply {
  const db = engine.db;
  if (!db.exists(key)) return -2;
  const at = db.expires.get(key);
  if (at === undefined) return -1;
  return ms ? at : Math.floor((at + 500) / 1000);
}

/** SCAN's cursor (`parseScanCursorOrReply`): strtoul, so "" is 0 and a sign is accepted. */
export function scanCursor(arg: string): number {
  if (arg === '') return 0;
  if (!/^[+-]?[0-9]+$/.test(arg)) fail(E.invalidCursor);
  const n = BigInt(arg);
  if (n > 18446744073709551615n || n < -18446744073709551615n) fail(E.invalidCursor);
  // A negative cursor wraps to a huge unsigned one: past every key.
  return n < 0n ? Number.MAX_SAFE_INTEGER : Number(n);
}

export type ScanOptions = { match: string | undefined; count: number; type: string | undefined };

export function scanOptions(argv: string[], from: number, allowType: boolean): ScanOptions {
  const o: ScanOptions = { match: undefined, count: 10, type: undefined };
  for (let i = from; i < argv.length; ) {
    const left = argv.length - i;
    const opt = argv[i] as string;
    if (is(opt, 'count') && left >= 2) {
      o.count = intArg(argv[i + 1] as string);
      if (o.count < 1) fail(E.syntax);
      i += 2;
    } else if (is(opt, 'match') && left >= 2) {
      const pattern = argv[i + 1] as string;
      o.match = pattern === '*' ? undefined : pattern;
      i += 2;
    } else if (is(opt, 'type') && allowType && left >= 2) {
      o.type = (argv[i + 1] as string).toLowerCase();
      i += 2;
    } else {
      fail(E.syntax);
    }
  }
  return o;
}

function scan(engine: Engine, argv: string[]): Reply {
  const db = engine.db;
  const cursor = scanCursor(argv[1] as string);
  const o = scanOptions(argv, 2, true);
  db.purge();
  const keys: string[] = [];
  let next = 0;
  let visited = 0;
  for (const [key, entry] of db.data) {
    if (entry.seq < cursor) continue;
    if (visited === o.count) {
      next = entry.seq;
      break;
    }
    visited++;
    if (o.match !== undefined && !globMatch(o.match, key)) continue;
    if (o.type !== undefined && entry.type !== o.type) continue;
    keys.push(key);
  }
  return [String(next), keys];
}

function typeName(entry: Entry | undefined): string {
  return entry === undefined ? 'none' : entry.type;
}

function flush(engine: Engine, argv: string[]): Reply {
  if (argv.length === 2 && !is(argv[1], 'sync') && !is(argv[1], 'async')) fail(E.syntax);
  if (argv.length > 2) fail(E.syntax);
  engine.db.clear();
  return OK;
}

function rename(engine: Engine, argv: string[], nx: boolean): Reply {
  const db = engine.db;
  const from = argv[1] as string;
  const to = argv[2] as string;
  const entry = db.lookup(from);
  if (entry === undefined) fail(E.noSuchKey);
  if (from === to) return nx ? 0 : OK;
  const at = db.expires.get(from);
  if (db.exists(to)) {
    if (nx) return 0;
    db.delete(to);
  }
  db.data.delete(from);
  db.expires.delete(from);
  (entry as Entry).seq = db.seq();
  db.data.set(to, entry as Entry);
  if (at !== undefined) db.setExpire(to, at);
  return nx ? 1 : OK;
}

/** How many of the keys in `argv[1..]` `test` holds for (deleted, existing). */
function countKeys(argv: string[], test: (key: string) => boolean): number {
  let n = 0;
  for (let i = 1; i < argv.length; i++) if (test(argv[i] as string)) n++;
  return n;
}

export const keyCommands: CommandTable = {
  // UNLINK is DEL without blocking, TOUCH is EXISTS that bumps access times: the same here.
  del: {
    arity: -2,
    flags: WRITE,
    run: (engine, argv) => countKeys(argv, (k) => engine.db.delete(k)),
  },
  unlink: {
    arity: -2,
    flags: WRITE,
    run: (engine, argv) => countKeys(argv, (k) => engine.db.delete(k)),
  },
  exists: {
    arity: -2,
    flags: READONLY,
    run: (engine, argv) => countKeys(argv, (k) => engine.db.exists(k)),
  },
  touch: {
    arity: -2,
    flags: READONLY,
    run: (engine, argv) => countKeys(argv, (k) => engine.db.exists(k)),
  },
  type: {
    arity: 2,
    flags: READONLY,
    run: (engine, argv) => new Status(typeName(engine.db.lookup(argv[1] as string))),
  },
  ttl: {
    arity: 2,
    flags: READONLY,
    run: (engine, argv) => ttlGeneric(engine, argv[1] as string, false),
  },
  pttl: {
    arity: 2,
    flags: READONLY,
    run: (engine, argv) => ttlGeneric(engine, argv[1] as string, true),
  },
  expiretime: {
    arity: 2,
    flags: READONLY,
    run: (engine, argv) => expireTime(engine, argv[1] as string, false),
  },
  pexpiretime: {
    arity: 2,
    flags: READONLY,
    run: (engine, argv) => expireTime(engine, argv[1] as string, true),
  },
  expire: {
    arity: -3,
    flags: WRITE,
    run: (engine, argv) => expireGeneric(engine, argv, true, true),
  },
  pexpire: {
    arity: -3,
    flags: WRITE,
    run: (engine, argv) => expireGeneric(engine, argv, true, false),
  },
  expireat: {
    arity: -3,
    flags: WRITE,
    run: (engine, argv) => expireGeneric(engine, argv, false, true),
  },
  pexpireat: {
    arity: -3,
    flags: WRITE,
    run: (engine, argv) => expireGeneric(engine, argv, false, false),
  },
  persist: {
    arity: 2,
    flags: WRITE,
    run: (engine, argv) => {
      const key = argv[1] as string;
      if (!engine.db.exists(key)) return 0;
      return engine.db.expires.delete(key) ? 1 : 0;
    },
  },
  rename: { arity: 3, flags: WRITE, run: (engine, argv) => rename(engine, argv, false) },
  renamenx: { arity: 3, flags: WRITE, run: (engine, argv) => rename(engine, argv, true) },
  scan: { arity: -2, flags: READONLY, run: scan },
  keys: {
    arity: 2,
    flags: READONLY,
    run: (engine, argv) => {
      const db = engine.db;
      const pattern = argv[1] as string;
      db.purge();
      const out: string[] = [];
      for (const key of db.data.keys()) {
        if (pattern === '*' || globMatch(pattern, key)) out.push(key);
      }
      return out;
    },
  },
  randomkey: {
    arity: 1,
    flags: READONLY,
    run: (engine) => {
      const db = engine.db;
      db.purge();
      if (db.data.size === 0) return null;
      let i = Math.floor(Math.random() * db.data.size);
      for (const key of db.data.keys()) if (i-- === 0) return key;
      return null;
    },
  },
  dbsize: {
    arity: 1,
    flags: READONLY,
    run: (engine) => {
      engine.db.purge();
      return engine.db.data.size;
    },
  },
  flushdb: { arity: -1, flags: WRITE, run: flush },
  flushall: { arity: -1, flags: WRITE, run: flush },
  ping: {
    arity: -1,
    flags: 0,
    run: (_engine, argv) => {
      if (argv.length > 2) fail(wrongArity('ping'));
      return argv.length === 2 ? (argv[1] as string) : PONG;
    },
  },
  echo: { arity: 2, flags: 0, run: (_engine, argv) => argv[1] as string },
  time: {
    arity: 1,
    flags: 0,
    run: () => {
      const micros =
        BigInt(Date.now()) * 1000n + BigInt(Math.floor((performance.now() % 1) * 1000));
      return [String(micros / 1000000n), String(micros % 1000000n)];
    },
  },
};
