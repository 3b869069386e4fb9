import type { Reply } from '../reply.ts';
import { type CommandTable, is, READONLY, WRITE } from './command.ts';
import { E, fail } from './errors.ts';
import { globMatch } from './glob.ts';
import type { Engine } from './index.ts';
import { scanCursor, scanOptions } from './keys.ts';
import type { ZSetEntry } from './keyspace.ts';
import { floatArg, formatDouble, formatG17, intArg, parseInteger } from './numbers.ts';
import { type LexBound, parseLexBound, SortedSet, type ZItem } from './sorted-set.ts';

/** `addReplyDouble` in 7.0: `%.17g`, with inf spelled out. */
const score = (d: number) => formatG17(d);

/** A score range bound (`zslParseRange`): raw `strtod`, so leading spaces and "" (= 0) pass. */
function rangeBound(arg: string): { value: number; exclusive: boolean } | undefined {
  const exclusive = arg.startsWith('(');
  const text = (exclusive ? arg.slice(1) : arg).replace(/^[ \t\n\v\f\r]+/, '');
  if (text === '') return { value: 0, exclusive };
  let value: number;
  if (/^[+-]?(inf|infinity)$/i.test(text)) value = text.startsWith('-') ? -Infinity : Infinity;
  else if (/^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/.test(text))
    value = Number(text);
  else return undefined;
  return { value, exclusive };
}

type ScoreRange = { min: number; minex: boolean; max: number; maxex: boolean };

function scoreRange(minArg: string, maxArg: string): ScoreRange {
  const min = rangeBound(minArg);
  const max = rangeBound(maxArg);
  if (min === undefined || max === undefined) fail(E.minMaxNotFloat);
  return {
    min: (min as { value: number }).value,
    minex: (min as { exclusive: boolean }).exclusive,
    max: (max as { value: number }).value,
    maxex: (max as { exclusive: boolean }).exclusive,
  };
}

function lexRange(minArg: string, maxArg: string): [LexBound, LexBound] {
  const min = parseLexBound(minArg);
  const max = parseLexBound(maxArg);
  if (min === undefined || max === undefined) fail(E.minMaxNotValidString);
  return [min as LexBound, max as LexBound];
}

/** Items within a score range, in order (forward or reverse), after offset/limit. */
function byScore(
  z: SortedSet,
  r: ScoreRange,
  reverse: boolean,
  offset: number,
  limit: number,
): ZItem[] {
  const start = z.firstByScore(r.min, r.minex);
  const end = z.endByScore(r.max, r.maxex);
  if (start >= end) return [];
  return page(z.items.slice(start, end), reverse, offset, limit);
}

function byLex(
  z: SortedSet,
  min: LexBound,
  max: LexBound,
  reverse: boolean,
  offset: number,
  limit: number,
): ZItem[] {
  return page(z.lexRange(min, max, reverse), false, offset, limit);
}

function page(items: ZItem[], reverse: boolean, offset: number, limit: number): ZItem[] {
  if (reverse) items.reverse();
  if (offset < 0) return [];
  const rest = items.slice(offset);
  return limit < 0 ? rest : rest.slice(0, limit);
}

function byRank(z: SortedSet, start: number, end: number, reverse: boolean): ZItem[] {
  const len = z.size;
  if (start < 0) start = len + start;
  if (end < 0) end = len + end;
  if (start < 0) start = 0;
  if (start > end || start >= len) return [];
  if (end >= len) end = len - 1;
  if (!reverse) return z.items.slice(start, end + 1);
  return z.items.slice(len - 1 - end, len - start).reverse();
}

function emit(items: ZItem[], withScores: boolean): Reply {
  const out: string[] = [];
  for (const item of items) {
    out.push(item.member);
    if (withScores) out.push(score(item.score));
  }
  return out;
}

type RangeType = 'auto' | 'rank' | 'score' | 'lex';
type Direction = 'auto' | 'forward' | 'reverse';

/** `zrangeGenericCommand`: ZRANGE and its older siblings, and ZRANGESTORE. */
function zrangeGeneric(
  engine: Engine,
  argv: string[],
  argStart: number,
  store: boolean,
  type0: RangeType,
  dir0: Direction,
): Reply {
  let rangeType = type0;
  let direction = dir0;
  let withScores = false;
  let offset = 0;
  let limit = -1;
  for (let j = argStart + 3; j < argv.length; j++) {
    const left = argv.length - j - 1;
    const opt = argv[j] as string;
    if (!store && is(opt, 'withscores')) withScores = true;
    else if (is(opt, 'limit') && left >= 2) {
      offset = intArg(argv[j + 1] as string);
      limit = intArg(argv[j + 2] as string);
      j += 2;
    } else if (direction === 'auto' && is(opt, 'rev')) direction = 'reverse';
    else if (rangeType === 'auto' && is(opt, 'bylex')) rangeType = 'lex';
    else if (rangeType === 'auto' && is(opt, 'byscore')) rangeType = 'score';
    else fail(E.syntax);
  }
  if (direction === 'auto') direction = 'forward';
  if (rangeType === 'auto') rangeType = 'rank';
  if (limit !== -1 && rangeType === 'rank') {
    fail('ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX');
  }
  if (withScores && rangeType === 'lex') {
    fail('ERR syntax error, WITHSCORES not supported in combination with BYLEX');
  }
  const reverse = direction === 'reverse';
  let minArg = argv[argStart + 1] as string;
  let maxArg = argv[argStart + 2] as string;
  if (reverse && rangeType !== 'rank') [minArg, maxArg] = [maxArg, minArg];

  let pick: (z: SortedSet) => ZItem[];
  if (rangeType === 'rank') {
    const start = intArg(minArg);
    const end = intArg(maxArg);
    pick = (z) => byRank(z, start, end, reverse);
  } else if (rangeType === 'score') {
    const r = scoreRange(minArg, maxArg);
    pick = (z) => byScore(z, r, reverse, offset, limit);
  } else {
    const [min, max] = lexRange(minArg, maxArg);
    pick = (z) => byLex(z, min, max, reverse, offset, limit);
  }

  const key = argv[argStart] as string;
  const entry = engine.db.getZSet(key);
  const items = entry === undefined ? [] : pick(entry.value);
  if (!store) return emit(items, withScores);
  const dest = argv[1] as string;
  engine.db.delete(dest);
  if (items.length > 0) {
    const z = new SortedSet();
    for (const item of items) z.set(item.member, item.score);
    engine.db.put(dest, { type: 'zset', value: z, seq: engine.db.seq() });
  }
  return items.length;
}

/** ZADD and ZINCRBY (`zaddGenericCommand`). */
function zadd(engine: Engine, argv: string[], incrCommand: boolean): Reply {
  let nx = false;
  let xx = false;
  let gt = false;
  let lt = false;
  let ch = false;
  let incr = incrCommand;
  let idx = 2;
  for (; idx < argv.length; idx++) {
    const opt = (argv[idx] as string).toLowerCase();
    if (opt === 'nx') nx = true;
    else if (opt === 'xx') xx = true;
    else if (opt === 'ch') ch = true;
    else if (opt === 'incr') incr = true;
    else if (opt === 'gt') gt = true;
    else if (opt === 'lt') lt = true;
    else break;
  }
  const elements = argv.length - idx;
  if (elements % 2 !== 0 || elements === 0) fail(E.syntax);
  const pairs = elements / 2;
  if (nx && xx) fail('ERR XX and NX options at the same time are not compatible');
  if ((gt && nx) || (lt && nx) || (gt && lt)) {
    fail('ERR GT, LT, and/or NX options at the same time are not compatible');
  }
  if (incr && pairs > 1) fail('ERR INCR option supports a single increment-element pair');
  const scores: number[] = [];
  for (let j = 0; j < pairs; j++) scores.push(floatArg(argv[idx + j * 2] as string));

  const key = argv[1] as string;
  let entry = engine.db.getZSet(key);
  let added = 0;
  let updated = 0;
  let processed = 0;
  let last = 0;
  if (entry === undefined) {
    if (xx) return incr ? null : 0;
    entry = engine.db.zsetFor(key);
  }
  const z = entry.value;
  for (let j = 0; j < pairs; j++) {
    const member = argv[idx + 1 + j * 2] as string;
    let s = scores[j] as number;
    const current = z.scores.get(member);
    if (current !== undefined) {
      if (nx) continue;
      if (incr) {
        s += current;
        if (Number.isNaN(s)) {
          engine.db.dropIfEmpty(key, entry);
          fail('ERR resulting score is not a number (NaN)');
        }
      }
      if ((lt && s >= current) || (gt && s <= current)) continue;
      last = s;
      processed++;
      if (s !== current) {
        z.set(member, s);
        updated++;
      }
    } else if (!xx) {
      z.set(member, s);
      last = s;
      added++;
      processed++;
    }
  }
  engine.db.dropIfEmpty(key, entry);
  if (incr) return processed ? score(last) : null;
  return ch ? added + updated : added;
}

type Aggregate = 'sum' | 'min' | 'max';

/** Read a ZUNIONSTORE/ZINTERSTORE source: sorted sets, and plain sets with score 1. */
function sourceItems(engine: Engine, key: string): Map<string, number> | undefined {
  const entry = engine.db.lookup(key);
  if (entry === undefined) return undefined;
  if (entry.type === 'zset') return entry.value.scores;
  if (entry.type === 'set') return new Map([...entry.value].map((m) => [m, 1]));
  return fail(E.wrongType);
}

function aggregate(acc: number, value: number, how: Aggregate): number {
  if (how === 'sum') {
    const s = acc + value;
    // +inf + -inf is NaN; Redis settles it as 0.
    return Number.isNaN(s) ? 0 : s;
  }
  // Written as Redis compares (not Math.min/max, which treat NaN and -0 differently).
  if (how === 'min') {
    if (value < acc) return value;
    return acc;
  }
  if (value > acc) return value;
  return acc;
}

function zstore(engine: Engine, argv: string[], op: 'union' | 'inter'): Reply {
  const name = (argv[0] as string).toLowerCase();
  const setnum = intArg(argv[2] as string);
  if (setnum < 1) fail(`ERR at least 1 input key is needed for '${name}' command`);
  if (setnum > argv.length - 3) fail(E.syntax);
  const sources: { items: Map<string, number> | undefined; weight: number }[] = [];
  for (let i = 0; i < setnum; i++) {
    sources.push({ items: sourceItems(engine, argv[3 + i] as string), weight: 1 });
  }
  let how: Aggregate = 'sum';
  let j = 3 + setnum;
  while (j < argv.length) {
    const remaining = argv.length - j;
    const opt = argv[j] as string;
    if (remaining >= setnum + 1 && is(opt, 'weights')) {
      j++;
      for (let i = 0; i < setnum; i++, j++) {
        (sources[i] as { weight: number }).weight = floatArg(
          argv[j] as string,
          'ERR weight value is not a float',
        );
      }
    } else if (remaining >= 2 && is(opt, 'aggregate')) {
      const a = (argv[j + 1] as string).toLowerCase();
      if (a !== 'sum' && a !== 'min' && a !== 'max') fail(E.syntax);
      how = a as Aggregate;
      j += 2;
    } else {
      fail(E.syntax);
    }
  }
  const weighted = (value: number, weight: number) => {
    const s = value * weight;
    return Number.isNaN(s) ? 0 : s;
  };
  // Smallest first, as Redis iterates (it matters for the order of floating-point sums).
  const ordered = sources
    .map((s, i) => ({ ...s, i, size: s.items?.size ?? 0 }))
    .sort((a, b) => a.size - b.size || a.i - b.i);
  const result = new Map<string, number>();
  if (op === 'inter') {
    const [first, ...rest] = ordered;
    if (first?.items && rest.every((s) => s.items !== undefined)) {
      for (const [member, value] of first.items) {
        let acc = weighted(value, first.weight);
        let everywhere = true;
        for (const other of rest) {
          const v = (other.items as Map<string, number>).get(member);
          if (v === undefined) {
            everywhere = false;
            break;
          }
          acc = aggregate(acc, weighted(v, other.weight), how);
        }
        if (everywhere) result.set(member, acc);
      }
    }
  } else {
    for (const s of ordered) {
      if (!s.items) continue;
      for (const [member, value] of s.items) {
        const w = weighted(value, s.weight);
        const acc = result.get(member);
        result.set(member, acc === undefined ? w : aggregate(acc, w, how));
      }
    }
  }
  const dest = argv[1] as string;
  engine.db.delete(dest);
  if (result.size > 0) {
    const z = new SortedSet();
    for (const [m, s] of result) z.set(m, s);
    engine.db.put(dest, { type: 'zset', value: z, seq: engine.db.seq() });
  }
  return result.size;
}

function zpop(engine: Engine, argv: string[], max: boolean): Reply {
  if (argv.length > 3) fail(E.syntax);
  let count = 1;
  if (argv.length === 3) {
    const n = parseInteger(argv[2] as string);
    if (n === undefined || n < 0) fail(E.outOfRangePositive);
    count = n as number;
    if (count === 0) return [];
  }
  const key = argv[1] as string;
  const entry = engine.db.getZSet(key);
  if (entry === undefined) return [];
  const z = entry.value;
  const n = Math.min(count, z.size);
  const removed = max ? z.removeRange(z.size - n, z.size).reverse() : z.removeRange(0, n);
  engine.db.dropIfEmpty(key, entry);
  return emit(removed, true);
}

function zrank(engine: Engine, argv: string[], reverse: boolean): Reply {
  const z = engine.db.getZSet(argv[1] as string)?.value;
  if (z === undefined) return null;
  const rank = z.rank(argv[2] as string);
  if (rank === undefined) return null;
  return reverse ? z.size - 1 - rank : rank;
}

function removeWhere(
  engine: Engine,
  key: string,
  pick: (z: SortedSet) => [number, number],
): number {
  const entry = engine.db.getZSet(key);
  if (entry === undefined) return 0;
  const [start, end] = pick(entry.value);
  if (start >= end) return 0;
  const n = entry.value.removeRange(start, end).length;
  engine.db.dropIfEmpty(key, entry as ZSetEntry);
  return n;
}

export const zsetCommands: CommandTable = {
  zadd: { arity: -4, flags: WRITE, run: (engine, argv) => zadd(engine, argv, false) },
  zincrby: { arity: 4, flags: WRITE, run: (engine, argv) => zadd(engine, argv, true) },
  zrange: {
    arity: -4,
    flags: READONLY,
    run: (engine, argv) => zrangeGeneric(engine, argv, 1, false, 'auto', 'auto'),
  },
  zrangestore: {
    arity: -5,
    flags: WRITE,
    run: (engine, argv) => zrangeGeneric(engine, argv, 2, true, 'auto', 'auto'),
  },
  zrevrange: {
    arity: -4,
    flags: READONLY,
    run: (engine, argv) => zrangeGeneric(engine, argv, 1, false, 'rank', 'reverse'),
  },
  zrangebyscore: {
    arity: -4,
    flags: READONLY,
    run: (engine, argv) => zrangeGeneric(engine, argv, 1, false, 'score', 'forward'),
  },
  zrevrangebyscore: {
    arity: -4,
    flags: READONLY,
    run: (engine, argv) => zrangeGeneric(engine, argv, 1, false, 'score', 'reverse'),
  },
  zrangebylex: {
    arity: -4,
    flags: READONLY,
    run: (engine, argv) => zrangeGeneric(engine, argv, 1, false, 'lex', 'forward'),
  },
  zrevrangebylex: {
    arity: -4,
    flags: READONLY,
    run: (engine, argv) => zrangeGeneric(engine, argv, 1, false, 'lex', 'reverse'),
  },
  zrank: { arity: 3, flags: READONLY, run: (engine, argv) => zrank(engine, argv, false) },
  zrevrank: { arity: 3, flags: READONLY, run: (engine, argv) => zrank(engine, argv, true) },
  zrem: {
    arity: -3,
    flags: WRITE,
    run: (engine, argv) => {
      const key = argv[1] as string;
      const entry = engine.db.getZSet(key);
      if (entry === undefined) return 0;
      let n = 0;
      for (let i = 2; i < argv.length; i++) if (entry.value.delete(argv[i] as string)) n++;
      engine.db.dropIfEmpty(key, entry);
      return n;
    },
  },
  zremrangebyscore: {
    arity: 4,
    flags: WRITE,
    run: (engine, argv) => {
      const r = scoreRange(argv[2] as string, argv[3] as string);
      return removeWhere(engine, argv[1] as string, (z) => [
        z.firstByScore(r.min, r.minex),
        z.endByScore(r.max, r.maxex),
      ]);
    },
  },
  zremrangebyrank: {
    arity: 4,
    flags: WRITE,
    run: (engine, argv) => {
      let start = intArg(argv[2] as string);
      let end = intArg(argv[3] as string);
      return removeWhere(engine, argv[1] as string, (z) => {
        const len = z.size;
        if (start < 0) start = len + start;
        if (end < 0) end = len + end;
        if (start < 0) start = 0;
        if (start > end || start >= len) return [0, 0];
        if (end >= len) end = len - 1;
        return [start, end + 1];
      });
    },
  },
  zremrangebylex: {
    arity: 4,
    flags: WRITE,
    run: (engine, argv) => {
      const [min, max] = lexRange(argv[2] as string, argv[3] as string);
      const key = argv[1] as string;
      const entry = engine.db.getZSet(key);
      if (entry === undefined) return 0;
      const hits = entry.value.lexRange(min, max, false);
      for (const item of hits) entry.value.delete(item.member);
      engine.db.dropIfEmpty(key, entry);
      return hits.length;
    },
  },
  zcard: {
    arity: 2,
    flags: READONLY,
    run: (engine, argv) => engine.db.getZSet(argv[1] as string)?.value.size ?? 0,
  },
  zcount: {
    arity: 4,
    flags: READONLY,
    run: (engine, argv) => {
      const r = scoreRange(argv[2] as string, argv[3] as string);
      const z = engine.db.getZSet(argv[1] as string)?.value;
      if (z === undefined) return 0;
      return Math.max(0, z.endByScore(r.max, r.maxex) - z.firstByScore(r.min, r.minex));
    },
  },
  zlexcount: {
    arity: 4,
    flags: READONLY,
    run: (engine, argv) => {
      const [min, max] = lexRange(argv[2] as string, argv[3] as string);
      const z = engine.db.getZSet(argv[1] as string)?.value;
      if (z === undefined) return 0;
      return z.lexRange(min, max, false).length;
    },
  },
  zscore: {
    arity: 3,
    flags: READONLY,
    run: (engine, argv) => {
      const s = engine.db.getZSet(argv[1] as string)?.value.scores.get(argv[2] as string);
      return s === undefined ? null : score(s);
    },
  },
  zmscore: {
    arity: -3,
    flags: READONLY,
    run: (engine, argv) => {
      const z = engine.db.getZSet(argv[1] as string)?.value;
      return argv.slice(2).map((m) => {
        const s = z?.scores.get(m);
        return s === undefined ? null : score(s);
      });
    },
  },
  zpopmin: { arity: -2, flags: WRITE, run: (engine, argv) => zpop(engine, argv, false) },
  zpopmax: { arity: -2, flags: WRITE, run: (engine, argv) => zpop(engine, argv, true) },
  zunionstore: { arity: -4, flags: WRITE, run: (engine, argv) => zstore(engine, argv, 'union') },
  zinterstore: { arity: -4, flags: WRITE, run: (engine, argv) => zstore(engine, argv, 'inter') },
  zscan: {
    arity: -3,
    flags: READONLY,
    run: (engine, argv) => {
      scanCursor(argv[2] as string);
      const z = engine.db.getZSet(argv[1] as string)?.value;
      if (z === undefined) return ['0', []];
      const o = scanOptions(argv, 3, false);
      const out: string[] = [];
      for (const item of z.items) {
        if (o.match === undefined || globMatch(o.match, item.member)) {
          out.push(item.member, formatDouble(item.score));
        }
      }
      return ['0', out];
    },
  },
};
