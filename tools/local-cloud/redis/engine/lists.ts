import { OK, type Reply } from '../reply.ts';
import { type CommandTable, is, READONLY, WRITE } from './command.ts';
import { E, fail, wrongArity } from './errors.ts';
import type { Engine } from './index.ts';
import { intArg, parseInteger } from './numbers.ts';

/** `getPositiveLongFromObjectOrReply`: both failures carry the same message. */
function positiveArg(arg: string, message: string = E.outOfRangePositive): number {
  const n = parseInteger(arg);
  if (n === undefined || n < 0) fail(message);
  return n as number;
}

function push(engine: Engine, argv: string[], left: boolean, onlyIfExists: boolean): Reply {
  const key = argv[1] as string;
  if (onlyIfExists && engine.db.getList(key) === undefined) return 0;
  const list = engine.db.listFor(key).value;
  for (let i = 2; i < argv.length; i++) {
    if (left) list.unshift(argv[i] as string);
    else list.push(argv[i] as string);
  }
  return list.length;
}

function pop(engine: Engine, argv: string[], left: boolean): Reply {
  if (argv.length > 3) fail(wrongArity(left ? 'lpop' : 'rpop'));
  const hasCount = argv.length === 3;
  const count = hasCount ? positiveArg(argv[2] as string) : 1;
  const key = argv[1] as string;
  const entry = engine.db.getList(key);
  if (entry === undefined) return null;
  if (hasCount && count === 0) return [];
  const list = entry.value;
  let out: string[];
  if (left) out = list.splice(0, count);
  else out = list.splice(Math.max(0, list.length - count)).reverse();
  engine.db.dropIfEmpty(key, entry);
  return hasCount ? out : (out[0] ?? null);
}

/** Redis' index normalisation for LRANGE / LTRIM style ranges. */
function range(start: number, end: number, len: number): [number, number] | undefined {
  if (start < 0) start = len + start;
  if (end < 0) end = len + end;
  if (start < 0) start = 0;
  if (start > end || start >= len) return undefined;
  if (end >= len) end = len - 1;
  return [start, end];
}

function lpos(engine: Engine, argv: string[]): Reply {
  const element = argv[2] as string;
  let rank = 1;
  let count = -1;
  let maxlen = 0;
  for (let j = 3; j < argv.length; j++) {
    const opt = argv[j] as string;
    const more = argv.length - 1 - j;
    if (is(opt, 'rank') && more) {
      rank = intArg(argv[++j] as string);
      if (rank === 0) {
        fail(
          "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list",
        );
      }
    } else if (is(opt, 'count') && more) {
      count = positiveArg(argv[++j] as string, "ERR COUNT can't be negative");
    } else if (is(opt, 'maxlen') && more) {
      maxlen = positiveArg(argv[++j] as string, "ERR MAXLEN can't be negative");
    } else {
      fail(E.syntax);
    }
  }
  const fromTail = rank < 0;
  if (fromTail) rank = -rank;
  const entry = engine.db.getList(argv[1] as string);
  if (entry === undefined) return count !== -1 ? [] : null;
  const list = entry.value;
  const len = list.length;
  const found: number[] = [];
  let matches = 0;
  for (let index = 0; index < len && (maxlen === 0 || index < maxlen); index++) {
    const at = fromTail ? len - 1 - index : index;
    if (list[at] !== element) continue;
    matches++;
    if (matches < rank) continue;
    if (count === -1) return at;
    found.push(at);
    if (count !== 0 && matches - rank + 1 >= count) break;
  }
  return count === -1 ? null : found;
}

function lmove(
  engine: Engine,
  from: string,
  to: string,
  fromLeft: boolean,
  toLeft: boolean,
): Reply {
  const db = engine.db;
  const source = db.getList(from);
  if (source === undefined) return null;
  const destination = db.getList(to);
  const value = (fromLeft ? source.value.shift() : source.value.pop()) as string;
  const target = destination ?? (from === to ? source : db.listFor(to));
  if (toLeft) target.value.unshift(value);
  else target.value.push(value);
  db.dropIfEmpty(from, source);
  return value;
}

function side(arg: string): boolean {
  if (is(arg, 'left')) return true;
  if (is(arg, 'right')) return false;
  return fail(E.syntax);
}

export const listCommands: CommandTable = {
  lpush: { arity: -3, flags: WRITE, run: (engine, argv) => push(engine, argv, true, false) },
  rpush: { arity: -3, flags: WRITE, run: (engine, argv) => push(engine, argv, false, false) },
  lpushx: { arity: -3, flags: WRITE, run: (engine, argv) => push(engine, argv, true, true) },
  rpushx: { arity: -3, flags: WRITE, run: (engine, argv) => push(engine, argv, false, true) },
  lpop: { arity: -2, flags: WRITE, run: (engine, argv) => pop(engine, argv, true) },
  rpop: { arity: -2, flags: WRITE, run: (engine, argv) => pop(engine, argv, false) },
  llen: {
    arity: 2,
    flags: READONLY,
    run: (engine, argv) => engine.db.getList(argv[1] as string)?.value.length ?? 0,
  },
  lrange: {
    arity: 4,
    flags: READONLY,
    run: (engine, argv) => {
      const start = intArg(argv[2] as string);
      const end = intArg(argv[3] as string);
      const list = engine.db.getList(argv[1] as string)?.value;
      if (list === undefined) return [];
      const r = range(start, end, list.length);
      return r === undefined ? [] : list.slice(r[0], r[1] + 1);
    },
  },
  lindex: {
    arity: 3,
    flags: READONLY,
    run: (engine, argv) => {
      const list = engine.db.getList(argv[1] as string)?.value;
      if (list === undefined) return null;
      let index = intArg(argv[2] as string);
      if (index < 0) index = list.length + index;
      return list[index] ?? null;
    },
  },
  lset: {
    arity: 4,
    flags: WRITE,
    run: (engine, argv) => {
      const entry = engine.db.getList(argv[1] as string);
      if (entry === undefined) fail(E.noSuchKey);
      const list = entry?.value as string[];
      let index = intArg(argv[2] as string);
      if (index < 0) index = list.length + index;
      if (index < 0 || index >= list.length) fail(E.indexOutOfRange);
      list[index] = argv[3] as string;
      return OK;
    },
  },
  lrem: {
    arity: 4,
    flags: WRITE,
    run: (engine, argv) => {
      const count = intArg(argv[2] as string);
      const key = argv[1] as string;
      const entry = engine.db.getList(key);
      if (entry === undefined) return 0;
      const list = entry.value;
      const element = argv[3] as string;
      let removed = 0;
      if (count >= 0) {
        for (let i = 0; i < list.length && (count === 0 || removed < count); ) {
          if (list[i] === element) {
            list.splice(i, 1);
            removed++;
          } else i++;
        }
      } else {
        for (let i = list.length - 1; i >= 0 && removed < -count; i--) {
          if (list[i] === element) {
            list.splice(i, 1);
            removed++;
          }
        }
      }
      engine.db.dropIfEmpty(key, entry);
      return removed;
    },
  },
  ltrim: {
    arity: 4,
    flags: WRITE,
    run: (engine, argv) => {
      const start = intArg(argv[2] as string);
      const end = intArg(argv[3] as string);
      const key = argv[1] as string;
      const entry = engine.db.getList(key);
      if (entry === undefined) return OK;
      const r = range(start, end, entry.value.length);
      entry.value = r === undefined ? [] : entry.value.slice(r[0], r[1] + 1);
      engine.db.dropIfEmpty(key, entry);
      return OK;
    },
  },
  lpos: { arity: -3, flags: READONLY, run: lpos },
  lmove: {
    arity: 5,
    flags: WRITE,
    run: (engine, argv) => {
      const fromLeft = side(argv[3] as string);
      const toLeft = side(argv[4] as string);
      return lmove(engine, argv[1] as string, argv[2] as string, fromLeft, toLeft);
    },
  },
  rpoplpush: {
    arity: 3,
    flags: WRITE,
    run: (engine, argv) => lmove(engine, argv[1] as string, argv[2] as string, false, true),
  },
};
