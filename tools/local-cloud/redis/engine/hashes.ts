import { OK, type Reply } from '../reply.ts';
import { type CommandTable, READONLY, WRITE } from './command.ts';
import { E, fail, wrongArity } from './errors.ts';
import { globMatch } from './glob.ts';
import type { Engine } from './index.ts';
import { scanCursor, scanOptions } from './keys.ts';
import { formatLongDouble, parseBigInt, parseFloatStrict } from './numbers.ts';

const LLONG_MAX = 9223372036854775807n;
const LLONG_MIN = -9223372036854775808n;

function hset(engine: Engine, argv: string[], name: string): number {
  if (argv.length % 2 === 1) fail(wrongArity(name));
  const hash = engine.db.hashFor(argv[1] as string).value;
  let added = 0;
  for (let i = 2; i < argv.length; i += 2) {
    const field = argv[i] as string;
    if (!hash.has(field)) added++;
    hash.set(field, argv[i + 1] as string);
  }
  return added;
}

function hincrby(engine: Engine, argv: string[]): Reply {
  const by = parseBigInt(argv[3] as string) ?? fail(E.notInteger);
  const entry = engine.db.hashFor(argv[1] as string);
  const field = argv[2] as string;
  const old = entry.value.get(field);
  let current = 0n;
  if (old !== undefined) current = parseBigInt(old) ?? fail(E.hashNotInteger);
  const next = current + by;
  if (next > LLONG_MAX || next < LLONG_MIN) fail(E.overflow);
  entry.value.set(field, next.toString());
  return Number.isSafeInteger(Number(next)) ? Number(next) : next;
}

function hincrbyfloat(engine: Engine, argv: string[]): Reply {
  const by = parseFloatStrict(argv[3] as string) ?? fail(E.notFloat);
  if (!Number.isFinite(by)) fail('ERR value is NaN or Infinity');
  const key = argv[1] as string;
  const entry = engine.db.hashFor(key);
  const field = argv[2] as string;
  const old = entry.value.get(field);
  let current = 0;
  if (old !== undefined) {
    const parsed = parseFloatStrict(old);
    if (parsed === undefined) {
      engine.db.dropIfEmpty(key, entry);
      fail(E.hashNotFloat);
    }
    current = parsed as number;
  }
  const next = current + by;
  if (!Number.isFinite(next)) {
    engine.db.dropIfEmpty(key, entry);
    fail(E.nanOrInfinity);
  }
  const text = formatLongDouble(next);
  entry.value.set(field, text);
  return text;
}

export const hashCommands: CommandTable = {
  hset: { arity: -4, flags: WRITE, run: (engine, argv) => hset(engine, argv, 'hset') },
  hmset: {
    arity: -4,
    flags: WRITE,
    run: (engine, argv) => {
      hset(engine, argv, 'hmset');
      return OK;
    },
  },
  hsetnx: {
    arity: 4,
    flags: WRITE,
    run: (engine, argv) => {
      const hash = engine.db.hashFor(argv[1] as string).value;
      if (hash.has(argv[2] as string)) return 0;
      hash.set(argv[2] as string, argv[3] as string);
      return 1;
    },
  },
  hget: {
    arity: 3,
    flags: READONLY,
    run: (engine, argv) =>
      engine.db.getHash(argv[1] as string)?.value.get(argv[2] as string) ?? null,
  },
  hmget: {
    arity: -3,
    flags: READONLY,
    run: (engine, argv) => {
      const hash = engine.db.getHash(argv[1] as string)?.value;
      const out: Reply[] = [];
      for (let i = 2; i < argv.length; i++) out.push(hash?.get(argv[i] as string) ?? null);
      return out;
    },
  },
  hgetall: {
    arity: 2,
    flags: READONLY,
    run: (engine, argv) => {
      const hash = engine.db.getHash(argv[1] as string)?.value;
      const out: string[] = [];
      if (hash) for (const [f, v] of hash) out.push(f, v);
      return out;
    },
  },
  hkeys: {
    arity: 2,
    flags: READONLY,
    run: (engine, argv) => [...(engine.db.getHash(argv[1] as string)?.value.keys() ?? [])],
  },
  hvals: {
    arity: 2,
    flags: READONLY,
    run: (engine, argv) => [...(engine.db.getHash(argv[1] as string)?.value.values() ?? [])],
  },
  hlen: {
    arity: 2,
    flags: READONLY,
    run: (engine, argv) => engine.db.getHash(argv[1] as string)?.value.size ?? 0,
  },
  hstrlen: {
    arity: 3,
    flags: READONLY,
    run: (engine, argv) =>
      engine.db.getHash(argv[1] as string)?.value.get(argv[2] as string)?.length ?? 0,
  },
  hexists: {
    arity: 3,
    flags: READONLY,
    run: (engine, argv) =>
      engine.db.getHash(argv[1] as string)?.value.has(argv[2] as string) ? 1 : 0,
  },
  hdel: {
    arity: -3,
    flags: WRITE,
    run: (engine, argv) => {
      const key = argv[1] as string;
      const entry = engine.db.getHash(key);
      if (entry === undefined) return 0;
      let n = 0;
      for (let i = 2; i < argv.length; i++) if (entry.value.delete(argv[i] as string)) n++;
      engine.db.dropIfEmpty(key, entry);
      return n;
    },
  },
  hincrby: { arity: 4, flags: WRITE, run: hincrby },
  hincrbyfloat: { arity: 4, flags: WRITE, run: hincrbyfloat },
  hscan: {
    arity: -3,
    flags: READONLY,
    run: (engine, argv) => {
      scanCursor(argv[2] as string);
      const hash = engine.db.getHash(argv[1] as string)?.value;
      if (hash === undefined) return ['0', []];
      const o = scanOptions(argv, 3, false);
      const out: string[] = [];
      for (const [f, v] of hash) if (o.match === undefined || globMatch(o.match, f)) out.push(f, v);
      // Every element in one reply with cursor 0, as Redis does for small (listpack) hashes.
      return ['0', out];
    },
  },
};
