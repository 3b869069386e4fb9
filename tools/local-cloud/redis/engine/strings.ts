import { OK, type Reply } from '../reply.ts';
import { type CommandTable, READONLY, WRITE } from './command.ts';
import { E, fail, invalidExpire, wrongArity } from './errors.ts';
import type { Engine } from './index.ts';
import type { Keyspace } from './keyspace.ts';
import { formatLongDouble, intArg, parseBigInt, parseFloatStrict } from './numbers.ts';

const MAX_STRING = 512 * 1024 * 1024;
const LLONG_MAX = 9223372036854775807n;
const LLONG_MIN = -9223372036854775808n;

type ExpireUnit = 'EX' | 'PX' | 'EXAT' | 'PXAT';
type StringOptions = {
  nx: boolean;
  xx: boolean;
  get: boolean;
  keepTtl: boolean;
  persist: boolean;
  unit: ExpireUnit | undefined;
  expire: string | undefined;
};

/** `parseExtendedStringArgumentsOrReply`: the options of SET (`set`) and GETEX (`get`). */
function parseStringOptions(argv: string[], from: number, command: 'set' | 'get'): StringOptions {
  const o: StringOptions = {
    nx: false,
    xx: false,
    get: false,
    keepTtl: false,
    persist: false,
    unit: undefined,
    expire: undefined,
  };
  for (let j = from; j < argv.length; j++) {
    const opt = (argv[j] as string).toLowerCase();
    const next = argv[j + 1];
    const hasExpire = o.unit !== undefined;
    // Repeating the same unit is accepted (the last value wins), mixing units is not.
    const unit = opt.toUpperCase();
    if (opt === 'nx' && !o.xx && command === 'set') o.nx = true;
    else if (opt === 'xx' && !o.nx && command === 'set') o.xx = true;
    else if (opt === 'get' && command === 'set') o.get = true;
    else if (opt === 'keepttl' && !o.persist && !hasExpire && command === 'set') o.keepTtl = true;
    else if (opt === 'persist' && command === 'get' && !hasExpire && !o.keepTtl) o.persist = true;
    else if (
      (opt === 'ex' || opt === 'px' || opt === 'exat' || opt === 'pxat') &&
      !o.keepTtl &&
      !o.persist &&
      (!hasExpire || o.unit === unit) &&
      next !== undefined
    ) {
      o.unit = unit as ExpireUnit;
      o.expire = next;
      j++;
    } else {
      fail(E.syntax);
    }
  }
  return o;
}

/** `getExpireMillisecondsOrReply`: the absolute expiry in ms. */
function expireAt(db: Keyspace, o: StringOptions, name: string): number {
  const value = parseBigInt(o.expire as string);
  if (value === undefined) fail(E.notInteger);
  let ms = value as bigint;
  const seconds = o.unit === 'EX' || o.unit === 'EXAT';
  if (ms <= 0n || (seconds && ms > LLONG_MAX / 1000n)) fail(invalidExpire(name));
  if (seconds) ms *= 1000n;
  if (o.unit === 'EX' || o.unit === 'PX') ms += BigInt(db.now());
  if (ms <= 0n || ms > LLONG_MAX) fail(invalidExpire(name));
  return Number(ms);
}

function setCommand(engine: Engine, argv: string[]): Reply {
  const db = engine.db;
  const key = argv[1] as string;
  const value = argv[2] as string;
  // The plain `SET k v` path stays allocation-light: it is what a cache does most.
  if (argv.length === 3) {
    db.setString(key, value);
    return OK;
  }
  const o = parseStringOptions(argv, 3, 'set');
  const at = o.unit !== undefined ? expireAt(db, o, 'set') : undefined;
  let old: Reply = null;
  const current = db.lookup(key);
  if (o.get) {
    if (current !== undefined && current.type !== 'string') fail(E.wrongType);
    old = current === undefined ? null : (current.value as string);
  }
  if ((o.nx && current !== undefined) || (o.xx && current === undefined)) {
    return o.get ? old : null;
  }
  db.setString(key, value, o.keepTtl);
  if (at !== undefined) db.setExpire(key, at);
  return o.get ? old : OK;
}

function setWithTtl(engine: Engine, argv: string[], unit: 'EX' | 'PX', name: string): Reply {
  const db = engine.db;
  const at = expireAt(
    db,
    { unit, expire: argv[2], nx: false, xx: false, get: false, keepTtl: false, persist: false },
    name,
  );
  db.setString(argv[1] as string, argv[3] as string);
  db.setExpire(argv[1] as string, at);
  return OK;
}

function getexCommand(engine: Engine, argv: string[]): Reply {
  const db = engine.db;
  const key = argv[1] as string;
  const o = parseStringOptions(argv, 2, 'get');
  const entry = db.getString(key);
  if (entry === undefined) return null;
  const at = o.unit !== undefined ? expireAt(db, o, 'getex') : undefined;
  const value = entry.value;
  if (at !== undefined) {
    if ((o.unit === 'EXAT' || o.unit === 'PXAT') && at <= db.now()) db.delete(key);
    else db.setExpire(key, at);
  } else if (o.persist) {
    db.expires.delete(key);
  }
  return value;
}

/** INCRBY and friends: 64-bit arithmetic on a string holding an integer, TTL kept. */
function incrBy(engine: Engine, key: string, by: bigint): Reply {
  const db = engine.db;
  const entry = db.getString(key);
  let current = 0n;
  if (entry !== undefined) {
    const parsed = parseBigInt(entry.value);
    if (parsed === undefined) fail(E.notInteger);
    current = parsed as bigint;
  }
  const next = current + by;
  if (next > LLONG_MAX || next < LLONG_MIN) fail(E.overflow);
  const text = next.toString();
  if (entry !== undefined) entry.value = text;
  else db.setString(key, text);
  return Number.isSafeInteger(Number(next)) ? Number(next) : next;
}

function incrementArg(arg: string): bigint {
  const n = parseBigInt(arg);
  return n === undefined ? fail(E.notInteger) : n;
}

/** `string2ld`: like the double parser but INCRBYFLOAT's own error. */
function longDoubleOf(s: string): number {
  const n = parseFloatStrict(s);
  return n === undefined ? fail(E.notFloat) : n;
}

function incrByFloat(engine: Engine, argv: string[]): Reply {
  const db = engine.db;
  const key = argv[1] as string;
  const entry = db.getString(key);
  const current = entry === undefined ? 0 : longDoubleOf(entry.value);
  const by = longDoubleOf(argv[2] as string);
  const next = current + by;
  if (!Number.isFinite(next)) fail(E.nanOrInfinity);
  const text = formatLongDouble(next);
  if (entry !== undefined) entry.value = text;
  else db.setString(key, text);
  return text;
}

function getRange(engine: Engine, argv: string[]): Reply {
  let start = intArg(argv[2] as string);
  let end = intArg(argv[3] as string);
  const entry = engine.db.getString(argv[1] as string);
  if (entry === undefined) return '';
  const value = entry.value;
  const len = value.length;
  if (start < 0 && end < 0 && start > end) return '';
  if (start < 0) start = len + start;
  if (end < 0) end = len + end;
  if (start < 0) start = 0;
  if (end < 0) end = 0;
  if (end >= len) end = len - 1;
  if (start > end || len === 0) return '';
  return value.slice(start, end + 1);
}

function setRange(engine: Engine, argv: string[]): Reply {
  const db = engine.db;
  const key = argv[1] as string;
  const offset = intArg(argv[2] as string);
  const value = argv[3] as string;
  if (offset < 0) fail(E.offsetOutOfRange);
  const entry = db.getString(key);
  if (entry === undefined) {
    if (value.length === 0) return 0;
    if (offset + value.length > MAX_STRING) fail(E.stringTooLong);
    db.setString(key, '\0'.repeat(offset) + value);
    return offset + value.length;
  }
  const old = entry.value;
  if (value.length === 0) return old.length;
  if (offset + value.length > MAX_STRING) fail(E.stringTooLong);
  const padded = old.length < offset ? old + '\0'.repeat(offset - old.length) : old;
  entry.value = padded.slice(0, offset) + value + padded.slice(offset + value.length);
  return entry.value.length;
}

export const stringCommands: CommandTable = {
  get: {
    arity: 2,
    flags: READONLY,
    run: (engine, argv) => {
      const entry = engine.db.getString(argv[1] as string);
      return entry === undefined ? null : entry.value;
    },
  },
  set: { arity: -3, flags: WRITE, run: setCommand },
  setnx: {
    arity: 3,
    flags: WRITE,
    run: (engine, argv) => {
      if (engine.db.exists(argv[1] as string)) return 0;
      engine.db.setString(argv[1] as string, argv[2] as string);
      return 1;
    },
  },
  setex: { arity: 4, flags: WRITE, run: (engine, argv) => setWithTtl(engine, argv, 'EX', 'setex') },
  psetex: {
    arity: 4,
    flags: WRITE,
    run: (engine, argv) => setWithTtl(engine, argv, 'PX', 'psetex'),
  },
  getdel: {
    arity: 2,
    flags: WRITE,
    run: (engine, argv) => {
      const entry = engine.db.getString(argv[1] as string);
      if (entry === undefined) return null;
      engine.db.delete(argv[1] as string);
      return entry.value;
    },
  },
  getex: { arity: -2, flags: WRITE, run: getexCommand },
  getset: {
    arity: 3,
    flags: WRITE,
    run: (engine, argv) => {
      const entry = engine.db.getString(argv[1] as string);
      const old = entry === undefined ? null : entry.value;
      engine.db.setString(argv[1] as string, argv[2] as string);
      return old;
    },
  },
  append: {
    arity: 3,
    flags: WRITE,
    run: (engine, argv) => {
      const entry = engine.db.getString(argv[1] as string);
      const add = argv[2] as string;
      if (entry === undefined) {
        engine.db.setString(argv[1] as string, add);
        return add.length;
      }
      if (entry.value.length + add.length > MAX_STRING) fail(E.stringTooLong);
      entry.value += add;
      return entry.value.length;
    },
  },
  strlen: {
    arity: 2,
    flags: READONLY,
    run: (engine, argv) => engine.db.getString(argv[1] as string)?.value.length ?? 0,
  },
  getrange: { arity: 4, flags: READONLY, run: getRange },
  substr: { arity: 4, flags: READONLY, run: getRange },
  setrange: { arity: 4, flags: WRITE, run: setRange },
  incr: { arity: 2, flags: WRITE, run: (engine, argv) => incrBy(engine, argv[1] as string, 1n) },
  decr: { arity: 2, flags: WRITE, run: (engine, argv) => incrBy(engine, argv[1] as string, -1n) },
  incrby: {
    arity: 3,
    flags: WRITE,
    run: (engine, argv) => incrBy(engine, argv[1] as string, incrementArg(argv[2] as string)),
  },
  decrby: {
    arity: 3,
    flags: WRITE,
    run: (engine, argv) => {
      const by = incrementArg(argv[2] as string);
      if (by === LLONG_MIN) fail('ERR decrement would overflow');
      return incrBy(engine, argv[1] as string, -by);
    },
  },
  incrbyfloat: { arity: 3, flags: WRITE, run: incrByFloat },
  mget: {
    arity: -2,
    flags: READONLY,
    run: (engine, argv) => {
      const out: Reply[] = [];
      for (let i = 1; i < argv.length; i++) {
        const entry = engine.db.lookup(argv[i] as string);
        out.push(entry !== undefined && entry.type === 'string' ? entry.value : null);
      }
      return out;
    },
  },
  mset: {
    arity: -3,
    flags: WRITE,
    run: (engine, argv) => {
      if (argv.length % 2 === 0) fail(wrongArity('mset'));
      for (let i = 1; i < argv.length; i += 2) {
        engine.db.setString(argv[i] as string, argv[i + 1] as string);
      }
      return OK;
    },
  },
  msetnx: {
    arity: -3,
    flags: WRITE,
    run: (engine, argv) => {
      if (argv.length % 2 === 0) fail(wrongArity('msetnx'));
      for (let i = 1; i < argv.length; i += 2) {
        if (engine.db.exists(argv[i] as string)) return 0;
      }
      for (let i = 1; i < argv.length; i += 2) {
        engine.db.setString(argv[i] as string, argv[i + 1] as string);
      }
      return 1;
    },
  },
};
