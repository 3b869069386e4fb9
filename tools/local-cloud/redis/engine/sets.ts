import type { Reply } from '../reply.ts';
import { type CommandTable, READONLY, WRITE } from './command.ts';
import { E, fail } from './errors.ts';
import { globMatch } from './glob.ts';
import type { Engine } from './index.ts';
import { scanCursor, scanOptions } from './keys.ts';
import { parseInteger } from './numbers.ts';

const INTSET_MAX = 512;
const INT_MEMBER = /^(?:0|-?[1-9][0-9]{0,18})$/;

/**
 * Members in the order Redis 7.0 lists them where that order is defined: a small set of integers
 * is an intset, sorted numerically. Other sets are hash tables in Redis (no defined order); here
 * they keep insertion order.
 */
export function members(set: Set<string>): string[] {
  const all = [...set];
  if (
    all.length <= INTSET_MAX &&
    all.every((m) => INT_MEMBER.test(m) && parseInteger(m) !== undefined)
  ) {
    return all.sort((a, b) => {
      const x = BigInt(a);
      const y = BigInt(b);
      return x < y ? -1 : x > y ? 1 : 0;
    });
  }
  return all;
}

function pick<T>(items: T[]): T {
  return items[Math.floor(Math.random() * items.length)] as T;
}

function readSets(engine: Engine, keys: string[]): (Set<string> | undefined)[] {
  return keys.map((k) => engine.db.getSet(k)?.value);
}

function inter(sets: (Set<string> | undefined)[]): Set<string> {
  if (sets.some((s) => s === undefined)) return new Set();
  const sorted = (sets as Set<string>[]).slice().sort((a, b) => a.size - b.size);
  const [first, ...rest] = sorted;
  const out = new Set<string>();
  for (const m of first ?? []) if (rest.every((s) => s.has(m))) out.add(m);
  return out;
}

function union(sets: (Set<string> | undefined)[]): Set<string> {
  const out = new Set<string>();
  for (const s of sets) if (s) for (const m of s) out.add(m);
  return out;
}

function diff(sets: (Set<string> | undefined)[]): Set<string> {
  const [first, ...rest] = sets;
  const out = new Set<string>();
  if (!first) return out;
  for (const m of first) if (!rest.some((s) => s?.has(m))) out.add(m);
  return out;
}

function store(engine: Engine, dest: string, result: Set<string>): number {
  engine.db.delete(dest);
  if (result.size > 0) {
    engine.db.put(dest, { type: 'set', value: result, seq: engine.db.seq() });
  }
  return result.size;
}

type SetOp = (sets: (Set<string> | undefined)[]) => Set<string>;

const readOp =
  (op: SetOp) =>
  (engine: Engine, argv: string[]): Reply =>
    members(op(readSets(engine, argv.slice(1))));

const storeOp =
  (op: SetOp) =>
  (engine: Engine, argv: string[]): Reply =>
    store(engine, argv[1] as string, op(readSets(engine, argv.slice(2))));

export const setCommands: CommandTable = {
  sadd: {
    arity: -3,
    flags: WRITE,
    run: (engine, argv) => {
      const set = engine.db.setFor(argv[1] as string).value;
      let added = 0;
      for (let i = 2; i < argv.length; i++) {
        if (!set.has(argv[i] as string)) {
          set.add(argv[i] as string);
          added++;
        }
      }
      return added;
    },
  },
  srem: {
    arity: -3,
    flags: WRITE,
    run: (engine, argv) => {
      const key = argv[1] as string;
      const entry = engine.db.getSet(key);
      if (entry === undefined) return 0;
      let n = 0;
      for (let i = 2; i < argv.length; i++) if (entry.value.delete(argv[i] as string)) n++;
      engine.db.dropIfEmpty(key, entry);
      return n;
    },
  },
  smembers: {
    arity: 2,
    flags: READONLY,
    run: (engine, argv) => {
      const set = engine.db.getSet(argv[1] as string)?.value;
      return set ? members(set) : [];
    },
  },
  sismember: {
    arity: 3,
    flags: READONLY,
    run: (engine, argv) =>
      engine.db.getSet(argv[1] as string)?.value.has(argv[2] as string) ? 1 : 0,
  },
  smismember: {
    arity: -3,
    flags: READONLY,
    run: (engine, argv) => {
      const set = engine.db.getSet(argv[1] as string)?.value;
      return argv.slice(2).map((m) => (set?.has(m) ? 1 : 0));
    },
  },
  scard: {
    arity: 2,
    flags: READONLY,
    run: (engine, argv) => engine.db.getSet(argv[1] as string)?.value.size ?? 0,
  },
  smove: {
    arity: 4,
    flags: WRITE,
    run: (engine, argv) => {
      const db = engine.db;
      const from = argv[1] as string;
      const to = argv[2] as string;
      const member = argv[3] as string;
      const source = db.getSet(from);
      if (source === undefined) return 0;
      const destination = db.getSet(to);
      if (from === to) return source.value.has(member) ? 1 : 0;
      if (!source.value.delete(member)) return 0;
      db.dropIfEmpty(from, source);
      (destination ?? db.setFor(to)).value.add(member);
      return 1;
    },
  },
  spop: {
    arity: -2,
    flags: WRITE,
    run: (engine, argv) => {
      if (argv.length > 3) fail(E.syntax);
      const key = argv[1] as string;
      if (argv.length === 3) {
        const n = parseInteger(argv[2] as string);
        if (n === undefined || n < 0) fail(E.outOfRangePositive);
        const entry = engine.db.getSet(key);
        if (entry === undefined || n === 0) return [];
        if ((n as number) >= entry.value.size) {
          // Asking for the whole set returns it in listing order, then drops the key.
          const everything = members(entry.value);
          engine.db.delete(key);
          return everything;
        }
        const all = [...entry.value];
        const out: string[] = [];
        for (let i = 0; i < (n as number) && all.length > 0; i++) {
          const at = Math.floor(Math.random() * all.length);
          out.push(all[at] as string);
          all[at] = all[all.length - 1] as string;
          all.pop();
        }
        for (const m of out) entry.value.delete(m);
        engine.db.dropIfEmpty(key, entry);
        return out;
      }
      const entry = engine.db.getSet(key);
      if (entry === undefined) return null;
      const member = pick([...entry.value]);
      entry.value.delete(member);
      engine.db.dropIfEmpty(key, entry);
      return member;
    },
  },
  srandmember: {
    arity: -2,
    flags: READONLY,
    run: (engine, argv) => {
      if (argv.length > 3) fail(E.syntax);
      if (argv.length === 3) {
        const n = parseInteger(argv[2] as string) ?? fail(E.notInteger);
        if (n === -(2 ** 63)) {
          fail(
            'ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807',
          );
        }
        const set = engine.db.getSet(argv[1] as string)?.value;
        if (set === undefined || n === 0) return [];
        const all = [...set];
        if (n < 0) return Array.from({ length: -n }, () => pick(all));
        if (n >= all.length) return members(set);
        const out: string[] = [];
        for (let i = 0; i < n; i++) {
          const at = Math.floor(Math.random() * all.length);
          out.push(all[at] as string);
          all[at] = all[all.length - 1] as string;
          all.pop();
        }
        return out;
      }
      const set = engine.db.getSet(argv[1] as string)?.value;
      return set === undefined ? null : pick([...set]);
    },
  },
  sinter: { arity: -2, flags: READONLY, run: readOp(inter) },
  sunion: { arity: -2, flags: READONLY, run: readOp(union) },
  sdiff: { arity: -2, flags: READONLY, run: readOp(diff) },
  sinterstore: { arity: -3, flags: WRITE, run: storeOp(inter) },
  sunionstore: { arity: -3, flags: WRITE, run: storeOp(union) },
  sdiffstore: { arity: -3, flags: WRITE, run: storeOp(diff) },
  sscan: {
    arity: -3,
    flags: READONLY,
    run: (engine, argv) => {
      scanCursor(argv[2] as string);
      const set = engine.db.getSet(argv[1] as string)?.value;
      if (set === undefined) return ['0', []];
      const o = scanOptions(argv, 3, false);
      return ['0', members(set).filter((m) => o.match === undefined || globMatch(o.match, m))];
    },
  },
};
