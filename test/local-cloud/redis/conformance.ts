import { createHash } from 'node:crypto';
import type { Redis } from '@upstash/redis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RedisService } from '../../../tools/local-cloud/redis/index.ts';
import { b64, cleanup, command, READONLY_TOKEN, raw, sdk, TOKEN, uniquePrefix } from './targets.ts';

type Arg = string | number;
const sha1 = (text: string) => createHash('sha1').update(text).digest('hex');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A sliding-window limiter shaped like @upstash/ratelimit's: shebang flags, ZSET, PEXPIRE. */
const SLIDING_WINDOW = `#!lua flags=allow-key-locking
local key = KEYS[1]
local limit = tonumber(ARGV[1])
local now = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', key, 0, now - window)
local used = redis.call('ZCARD', key)
if used >= limit then
  local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  return {0, limit - used, tonumber(oldest[2]) + window}
end
redis.call('ZADD', key, now, now .. ':' .. ARGV[4])
redis.call('PEXPIRE', key, window)
return {1, limit - used - 1, now + window}
`;

/** The fixed-window algorithm of @upstash/ratelimit: INCR, PEXPIRE on the first hit. */
const FIXED_WINDOW = `#!lua flags=allow-key-locking
local key = KEYS[1]
local window = ARGV[1]
local incrementBy = ARGV[2]
local r = redis.call("INCRBY", key, incrementBy)
if r == tonumber(incrementBy) then
  redis.call("PEXPIRE", key, window)
end
return r
`;

/**
 * The conformance suite: the same cases against whatever `connect` starts, through the SDK and
 * through raw HTTP (so the exact reply encoding is checked, not only what the SDK makes of it).
 * Both backends must pass it unchanged, so they answer identically.
 */
export function conformanceSuite(label: string, connect: () => Promise<RedisService>): void {
  describe(`Upstash Redis REST conformance (${label})`, () => {
    let service: RedisService;
    let redis: Redis;
    let prefix = '';
    const used: string[] = [];
    const k = (name: string) => `${prefix}${name}`;
    const send = (...cmd: Arg[]) => command(service, cmd);
    /** The `result` of a command that must succeed. */
    const ok = async (...cmd: Arg[]) => {
      const res = await send(...cmd);
      expect(res.status, `${cmd.join(' ')} -> ${res.body}`).toBe(200);
      return (res.json as { result: unknown }).result;
    };
    /** The error text of a command that must fail with 400. */
    const err = async (...cmd: Arg[]) => {
      const res = await send(...cmd);
      expect(res.status, `${cmd.join(' ')} -> ${res.body}`).toBe(400);
      return (res.json as { error: string }).error;
    };
    const sorted = (v: unknown) => [...(v as string[])].sort();

    beforeAll(async () => {
      service = await connect();
      redis = sdk(service);
    });
    afterAll(async () => {
      for (const p of used) await cleanup(service, p);
      await service.close();
    });
    beforeEach(() => {
      prefix = uniquePrefix(label);
      used.push(prefix);
    });

    describe('strings', () => {
      it('round-trips values through the SDK, JSON and UTF-8 included', async () => {
        expect(await redis.set(k('s'), 'héllo wörld ✓ 🚀')).toBe('OK');
        expect(await redis.get(k('s'))).toBe('héllo wörld ✓ 🚀');
        await redis.set(k('o'), { a: 1, b: ['x', null] });
        expect(await redis.get(k('o'))).toEqual({ a: 1, b: ['x', null] });
        expect(await redis.get(k('missing'))).toBeNull();
        expect(await ok('STRLEN', k('s'))).toBe(Buffer.byteLength('héllo wörld ✓ 🚀'));
      });

      it('applies SET options EX, PX, EXAT, PXAT, NX, XX, GET and KEEPTTL', async () => {
        expect(await ok('SET', k('a'), '1', 'EX', 100)).toBe('OK');
        expect(await ok('TTL', k('a'))).toBe(100);
        expect(await ok('SET', k('a'), '2', 'KEEPTTL')).toBe('OK');
        expect(await ok('TTL', k('a'))).toBe(100);
        expect(await ok('SET', k('a'), '3')).toBe('OK');
        expect(await ok('TTL', k('a'))).toBe(-1);
        expect(await ok('SET', k('a'), '4', 'PX', 100_000)).toBe('OK');
        expect(await ok('TTL', k('a'))).toBe(100);
        expect(await ok('SET', k('a'), '5', 'EXAT', Math.floor(Date.now() / 1000) + 200)).toBe(
          'OK',
        );
        expect(await ok('TTL', k('a'))).toBeGreaterThanOrEqual(199);
        expect(await ok('SET', k('a'), '6', 'PXAT', Date.now() + 300_000)).toBe('OK');
        expect(await ok('TTL', k('a'))).toBeGreaterThanOrEqual(299);
        expect(await ok('SET', k('a'), 'x', 'NX')).toBeNull();
        expect(await ok('SET', k('b'), 'x', 'XX')).toBeNull();
        expect(await ok('SET', k('b'), 'x', 'NX')).toBe('OK');
        expect(await ok('SET', k('b'), 'y', 'XX', 'GET')).toBe('x');
        expect(await ok('SET', k('c'), 'z', 'GET')).toBeNull();
        expect(await ok('SET', k('c'), 'w', 'NX', 'GET')).toBe('z');
        expect(await ok('GET', k('c'))).toBe('z');
        expect(await redis.set(k('d'), 'v', { nx: true, ex: 50 })).toBe('OK');
        expect(await redis.ttl(k('d'))).toBe(50);
        expect(await ok('SET', k('a'), '1', 'EXAT', 1)).toBe('OK');
        expect(await ok('EXISTS', k('a'))).toBe(0);
      });

      it('rejects bad SET options with Redis texts', async () => {
        expect(await err('SET', k('a'), '1', 'EX', 0)).toBe(
          "ERR invalid expire time in 'set' command",
        );
        expect(await err('SET', k('a'), '1', 'PX', -5)).toBe(
          "ERR invalid expire time in 'set' command",
        );
        expect(await err('SET', k('a'), '1', 'EX', 'soon')).toBe(
          'ERR value is not an integer or out of range',
        );
        expect(await err('SET', k('a'), '1', 'NX', 'XX')).toBe('ERR syntax error');
        expect(await err('SET', k('a'), '1', 'EX', 1, 'PX', 1)).toBe('ERR syntax error');
        expect(await err('SET', k('a'), '1', 'KEEPTTL', 'EX', 1)).toBe('ERR syntax error');
        expect(await err('SET', k('a'), '1', 'BOGUS')).toBe('ERR syntax error');
        expect(await err('SET', k('a'))).toBe("ERR wrong number of arguments for 'set' command");
        await ok('HSET', k('h'), 'f', 'v');
        expect(await err('SET', k('h'), 'v', 'GET')).toBe(
          'WRONGTYPE Operation against a key holding the wrong kind of value',
        );
      });

      it('implements GETDEL, GETEX, SETNX, SETEX, PSETEX and MSETNX', async () => {
        await ok('SET', k('a'), 'v');
        expect(await redis.getdel(k('a'))).toBe('v');
        expect(await redis.getdel(k('a'))).toBeNull();
        expect(await ok('SETNX', k('a'), '1')).toBe(1);
        expect(await ok('SETNX', k('a'), '2')).toBe(0);
        expect(await ok('GETEX', k('a'), 'EX', 100)).toBe('1');
        expect(await ok('TTL', k('a'))).toBe(100);
        expect(await ok('GETEX', k('a'), 'PERSIST')).toBe('1');
        expect(await ok('TTL', k('a'))).toBe(-1);
        expect(await err('GETEX', k('a'), 'NX')).toBe('ERR syntax error');
        expect(await err('GETEX', k('a'), 'EX', 0)).toBe(
          "ERR invalid expire time in 'getex' command",
        );
        expect(await ok('GETEX', k('none'), 'EX', 0)).toBeNull();
        expect(await ok('SETEX', k('b'), 100, 'v')).toBe('OK');
        expect(await ok('TTL', k('b'))).toBe(100);
        expect(await err('SETEX', k('b'), 0, 'v')).toBe(
          "ERR invalid expire time in 'setex' command",
        );
        expect(await ok('PSETEX', k('c'), 100_000, 'v')).toBe('OK');
        expect(await ok('TTL', k('c'))).toBe(100);
        expect(await err('PSETEX', k('c'), -1, 'v')).toBe(
          "ERR invalid expire time in 'psetex' command",
        );
        expect(await ok('MSET', k('m1'), 'a', k('m2'), 'b')).toBe('OK');
        expect(await ok('MGET', k('m1'), k('m2'), k('m3'))).toEqual(['a', 'b', null]);
        expect(await ok('MSETNX', k('m3'), 'c', k('m1'), 'x')).toBe(0);
        expect(await ok('MSETNX', k('m3'), 'c', k('m4'), 'd')).toBe(1);
        expect(await redis.mget(k('m3'), k('m4'))).toEqual(['c', 'd']);
        expect(await err('MSET', k('m1'))).toBe("ERR wrong number of arguments for 'mset' command");
      });

      it('implements APPEND, GETRANGE and SETRANGE', async () => {
        expect(await ok('APPEND', k('s'), 'Hello')).toBe(5);
        expect(await ok('APPEND', k('s'), ' World')).toBe(11);
        expect(await ok('GETRANGE', k('s'), 0, 4)).toBe('Hello');
        expect(await ok('GETRANGE', k('s'), -5, -1)).toBe('World');
        expect(await ok('GETRANGE', k('s'), 5, 1)).toBe('');
        expect(await ok('GETRANGE', k('s'), 0, 100)).toBe('Hello World');
        expect(await ok('SETRANGE', k('s'), 6, 'Redis')).toBe(11);
        expect(await ok('GET', k('s'))).toBe('Hello Redis');
        expect(await ok('SETRANGE', k('pad'), 3, 'x')).toBe(4);
        expect(await ok('GET', k('pad'))).toBe('\u0000\u0000\u0000x');
        expect(await ok('SETRANGE', k('empty'), 0, '')).toBe(0);
        expect(await ok('EXISTS', k('empty'))).toBe(0);
        expect(await err('SETRANGE', k('s'), -1, 'x')).toBe('ERR offset is out of range');
      });

      it('counts with INCR, INCRBY, DECR, DECRBY and INCRBYFLOAT, keeping the TTL', async () => {
        expect(await redis.incr(k('n'))).toBe(1);
        expect(await redis.incrby(k('n'), 10)).toBe(11);
        expect(await redis.decr(k('n'))).toBe(10);
        expect(await redis.decrby(k('n'), 15)).toBe(-5);
        await ok('EXPIRE', k('n'), 100);
        expect(await ok('INCR', k('n'))).toBe(-4);
        expect(await ok('TTL', k('n'))).toBe(100);
        expect(await ok('SET', k('f'), '10.50')).toBe('OK');
        expect(await ok('INCRBYFLOAT', k('f'), '0.1')).toBe('10.6');
        expect(await redis.incrbyfloat(k('f'), 1.4)).toBe(12);
        expect(await ok('INCRBYFLOAT', k('g'), '5e2')).toBe('500');
      });

      it('reports counter errors as Redis does', async () => {
        await ok('SET', k('s'), 'abc');
        expect(await err('INCR', k('s'))).toBe('ERR value is not an integer or out of range');
        expect(await err('INCRBY', k('n'), 'x')).toBe(
          'ERR value is not an integer or out of range',
        );
        await ok('SET', k('n'), ' 5');
        expect(await err('INCR', k('n'))).toBe('ERR value is not an integer or out of range');
        await ok('SET', k('n'), '9223372036854775807');
        expect(await err('INCR', k('n'))).toBe('ERR increment or decrement would overflow');
        expect(await err('DECRBY', k('n'), '-9223372036854775808')).toBe(
          'ERR decrement would overflow',
        );
        expect(await err('INCRBYFLOAT', k('s'), '1')).toBe('ERR value is not a valid float');
        expect(await err('INCRBYFLOAT', k('f'), 'inf')).toBe(
          'ERR increment would produce NaN or Infinity',
        );
        await ok('LPUSH', k('l'), 'x');
        expect(await err('INCR', k('l'))).toBe(
          'WRONGTYPE Operation against a key holding the wrong kind of value',
        );
        expect(await err('GET', k('l'))).toBe(
          'WRONGTYPE Operation against a key holding the wrong kind of value',
        );
      });
    });

    describe('keys and expiry', () => {
      it('expires keys exactly (short PX, no long sleeps)', async () => {
        // 300 ms: long enough that a loaded machine still reads the keys before they expire.
        const set = Date.now();
        await ok('SET', k('a'), 'v', 'PX', 300);
        await ok('SET', k('b'), 'v', 'PX', 300);
        await ok('SET', k('keep'), 'v', 'PX', 60_000);
        await ok('HSET', k('h'), 'f', 'v');
        await ok('PEXPIRE', k('h'), 300);
        const pttl = (await ok('PTTL', k('a'))) as number;
        expect(pttl).toBeGreaterThan(0);
        expect(pttl).toBeLessThanOrEqual(300);
        // Gone once its time is up (polled, with a deadline), and not before.
        while ((await ok('GET', k('a'))) !== null) {
          expect(Date.now() - set).toBeLessThan(3_000);
          await sleep(20);
        }
        expect(Date.now() - set).toBeGreaterThanOrEqual(290);
        // b and h were set just after a: they go within the same deadline; keep stays.
        while ((await ok('EXISTS', k('b'), k('h'), k('keep'))) !== 1) {
          expect(Date.now() - set).toBeLessThan(3_000);
          await sleep(20);
        }
        expect(await ok('TTL', k('a'))).toBe(-2);
        expect(await ok('PTTL', k('h'))).toBe(-2);
        expect(await ok('KEYS', `${prefix}*`)).toEqual([k('keep')]);
      });

      it('implements EXPIRE with NX, XX, GT and LT, PERSIST, EXPIRETIME', async () => {
        await ok('SET', k('a'), 'v');
        expect(await ok('EXPIRE', k('a'), 100, 'XX')).toBe(0);
        expect(await ok('EXPIRE', k('a'), 100, 'GT')).toBe(0);
        expect(await ok('EXPIRE', k('a'), 100, 'NX')).toBe(1);
        expect(await ok('EXPIRE', k('a'), 50, 'NX')).toBe(0);
        expect(await ok('EXPIRE', k('a'), 50, 'GT')).toBe(0);
        expect(await ok('EXPIRE', k('a'), 200, 'GT')).toBe(1);
        expect(await ok('EXPIRE', k('a'), 300, 'LT')).toBe(0);
        expect(await ok('EXPIRE', k('a'), 150, 'LT')).toBe(1);
        expect(await ok('TTL', k('a'))).toBe(150);
        expect(await ok('PERSIST', k('a'))).toBe(1);
        expect(await ok('PERSIST', k('a'))).toBe(0);
        expect(await ok('EXPIRE', k('a'), 100, 'LT')).toBe(1);
        expect(await ok('EXPIREAT', k('a'), 4_102_444_800)).toBe(1);
        expect(await ok('EXPIRETIME', k('a'))).toBe(4_102_444_800);
        expect(await ok('PEXPIRETIME', k('a'))).toBe(4_102_444_800_000);
        expect(await ok('EXPIRE', k('none'), 10)).toBe(0);
        expect(await ok('TTL', k('none'))).toBe(-2);
        expect(await err('EXPIRE', k('a'), 10, 'NX', 'XX')).toBe(
          'ERR NX and XX, GT or LT options at the same time are not compatible',
        );
        expect(await err('EXPIRE', k('a'), 10, 'GT', 'LT')).toBe(
          'ERR GT and LT options at the same time are not compatible',
        );
        expect(await err('EXPIRE', k('a'), 10, 'SOON')).toBe('ERR Unsupported option SOON');
        expect(await ok('EXPIRE', k('a'), -1)).toBe(1);
        expect(await ok('EXISTS', k('a'))).toBe(0);
      });

      it('implements DEL, UNLINK, EXISTS, TYPE and RENAME', async () => {
        await ok('SET', k('s'), 'v');
        await ok('HSET', k('h'), 'f', 'v');
        await ok('RPUSH', k('l'), 'a');
        await ok('SADD', k('t'), 'a');
        await ok('ZADD', k('z'), 1, 'a');
        expect(
          await Promise.all(['s', 'h', 'l', 't', 'z', 'none'].map((n) => redis.type(k(n)))),
        ).toEqual(['string', 'hash', 'list', 'set', 'zset', 'none']);
        expect(await ok('EXISTS', k('s'), k('s'), k('none'))).toBe(2);
        await ok('EXPIRE', k('s'), 100);
        expect(await ok('RENAME', k('s'), k('s2'))).toBe('OK');
        expect(await ok('TTL', k('s2'))).toBe(100);
        expect(await err('RENAME', k('s'), k('s3'))).toBe('ERR no such key');
        expect(await ok('RENAME', k('s2'), k('h'))).toBe('OK');
        expect(await ok('TYPE', k('h'))).toBe('string');
        expect(await ok('DEL', k('h'), k('l'), k('none'))).toBe(2);
        expect(await ok('UNLINK', k('t'), k('z'))).toBe(2);
      });

      it('iterates with SCAN (MATCH, COUNT, TYPE) and KEYS', async () => {
        for (let i = 0; i < 25; i++) await ok('SET', k(`s${i}`), 'v');
        await ok('HSET', k('h1'), 'f', 'v');
        const seen: string[] = [];
        let cursor = '0';
        do {
          const [next, keys] = (await ok('SCAN', cursor, 'MATCH', `${prefix}*`, 'COUNT', 7)) as [
            string,
            string[],
          ];
          seen.push(...keys);
          cursor = next;
        } while (cursor !== '0');
        expect(sorted([...new Set(seen)])).toEqual(
          sorted([...Array.from({ length: 25 }, (_, i) => k(`s${i}`)), k('h1')]),
        );
        const hashes: string[] = [];
        cursor = '0';
        do {
          const [next, keys] = (await ok(
            'SCAN',
            cursor,
            'MATCH',
            `${prefix}*`,
            'TYPE',
            'hash',
            'COUNT',
            1000,
          )) as [string, string[]];
          hashes.push(...keys);
          cursor = next;
        } while (cursor !== '0');
        expect(hashes).toEqual([k('h1')]);
        expect(sorted(await ok('KEYS', `${prefix}s1?`))).toEqual(
          sorted(Array.from({ length: 10 }, (_, i) => k(`s1${i}`))),
        );
        expect(await ok('KEYS', `${prefix}[h]1`)).toEqual([k('h1')]);
        expect(await err('SCAN', 'x')).toBe('ERR invalid cursor');
        expect(await err('SCAN', '0', 'COUNT', 0)).toBe('ERR syntax error');
      });

      it('answers PING, ECHO, TIME and DBSIZE', async () => {
        expect(await redis.ping()).toBe('PONG');
        expect(await ok('PING', 'hi')).toBe('hi');
        expect(await ok('ECHO', 'é')).toBe('é');
        const [sec, usec] = (await ok('TIME')) as [string, string];
        expect(Math.abs(Number(sec) - Date.now() / 1000)).toBeLessThan(5);
        expect(Number(usec)).toBeLessThan(1_000_000);
        expect(typeof (await redis.dbsize())).toBe('number');
        expect(await err('PING', 'a', 'b')).toBe(
          "ERR wrong number of arguments for 'ping' command",
        );
      });
    });

    describe('hashes', () => {
      it('implements the hash commands', async () => {
        expect(await redis.hset(k('h'), { a: 1, b: 'x' })).toBe(2);
        expect(await ok('HSET', k('h'), 'a', '2', 'c', '3')).toBe(1);
        expect(await redis.hget(k('h'), 'a')).toBe(2);
        expect(await ok('HMGET', k('h'), 'a', 'zz', 'c')).toEqual(['2', null, '3']);
        expect(await ok('HGETALL', k('h'))).toEqual(['a', '2', 'b', 'x', 'c', '3']);
        expect(await redis.hgetall(k('h'))).toEqual({ a: 2, b: 'x', c: 3 });
        expect(await ok('HKEYS', k('h'))).toEqual(['a', 'b', 'c']);
        expect(await ok('HVALS', k('h'))).toEqual(['2', 'x', '3']);
        expect(await ok('HLEN', k('h'))).toBe(3);
        expect(await ok('HEXISTS', k('h'), 'b')).toBe(1);
        expect(await ok('HDEL', k('h'), 'b', 'zz')).toBe(1);
        expect(await ok('HINCRBY', k('h'), 'a', 5)).toBe(7);
        expect(await ok('HINCRBYFLOAT', k('h'), 'f', '1.5')).toBe('1.5');
        expect(await ok('HSETNX', k('h'), 'f', '9')).toBe(0);
        expect(await ok('HSETNX', k('h'), 'g', '9')).toBe(1);
        expect(await ok('HSCAN', k('h'), 0, 'MATCH', 'a*')).toEqual(['0', ['a', '7']]);
        expect(await ok('HDEL', k('h'), 'a', 'c', 'f', 'g')).toBe(4);
        expect(await ok('EXISTS', k('h'))).toBe(0);
        expect(await ok('HGETALL', k('h'))).toEqual([]);
        await ok('HSET', k('h'), 's', 'abc');
        expect(await err('HINCRBY', k('h'), 's', 1)).toBe('ERR hash value is not an integer');
        expect(await err('HINCRBYFLOAT', k('h'), 's', 1)).toBe('ERR hash value is not a float');
        expect(await err('HSET', k('h'), 'a')).toBe(
          "ERR wrong number of arguments for 'hset' command",
        );
      });
    });

    describe('lists', () => {
      it('implements the list commands', async () => {
        expect(await redis.rpush(k('l'), 'a', 'b', 'c')).toBe(3);
        expect(await redis.lpush(k('l'), 'z')).toBe(4);
        expect(await ok('LRANGE', k('l'), 0, -1)).toEqual(['z', 'a', 'b', 'c']);
        expect(await ok('LLEN', k('l'))).toBe(4);
        expect(await ok('LINDEX', k('l'), -1)).toBe('c');
        expect(await ok('LSET', k('l'), 0, 'Z')).toBe('OK');
        expect(await err('LSET', k('l'), 10, 'Z')).toBe('ERR index out of range');
        expect(await err('LSET', k('none'), 0, 'Z')).toBe('ERR no such key');
        expect(await ok('LPOP', k('l'))).toBe('Z');
        expect(await ok('RPOP', k('l'), 2)).toEqual(['c', 'b']);
        expect(await ok('LPOP', k('l'), 0)).toEqual([]);
        expect(await ok('LPOP', k('none'), 2)).toBeNull();
        expect(await err('LPOP', k('l'), -1)).toBe('ERR value is out of range, must be positive');
        await ok('RPUSH', k('r'), 'x', 'y', 'x', 'z', 'x');
        expect(await ok('LREM', k('r'), -2, 'x')).toBe(2);
        expect(await ok('LRANGE', k('r'), 0, -1)).toEqual(['x', 'y', 'z']);
        expect(await ok('LTRIM', k('r'), 1, -1)).toBe('OK');
        expect(await ok('LRANGE', k('r'), 0, -1)).toEqual(['y', 'z']);
        await ok('RPUSH', k('p'), 'a', 'b', 'c', 'b', 'b');
        expect(await ok('LPOS', k('p'), 'b')).toBe(1);
        expect(await ok('LPOS', k('p'), 'b', 'RANK', -1)).toBe(4);
        expect(await ok('LPOS', k('p'), 'b', 'COUNT', 0)).toEqual([1, 3, 4]);
        expect(await ok('LPOS', k('p'), 'b', 'RANK', 2, 'COUNT', 1)).toEqual([3]);
        expect(await ok('LPOS', k('p'), 'b', 'MAXLEN', 1)).toBeNull();
        expect(await err('LPOS', k('p'), 'b', 'RANK', 0)).toBe(
          "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list",
        );
        expect(await ok('LMOVE', k('p'), k('q'), 'LEFT', 'RIGHT')).toBe('a');
        expect(await ok('LMOVE', k('p'), k('q'), 'RIGHT', 'LEFT')).toBe('b');
        expect(await ok('LRANGE', k('q'), 0, -1)).toEqual(['b', 'a']);
        expect(await err('LMOVE', k('p'), k('q'), 'UP', 'LEFT')).toBe('ERR syntax error');
        await ok('SET', k('s'), 'x');
        expect(await err('LMOVE', k('p'), k('s'), 'LEFT', 'LEFT')).toBe(
          'WRONGTYPE Operation against a key holding the wrong kind of value',
        );
      });
    });

    describe('sets', () => {
      it('implements the set commands', async () => {
        expect(await redis.sadd(k('s'), 'a', 'b', 'c')).toBe(3);
        expect(await ok('SADD', k('s'), 'a', 'd')).toBe(1);
        expect(await ok('SCARD', k('s'))).toBe(4);
        expect(await ok('SISMEMBER', k('s'), 'a')).toBe(1);
        expect(await ok('SMISMEMBER', k('s'), 'a', 'z')).toEqual([1, 0]);
        expect(await ok('SREM', k('s'), 'd', 'z')).toBe(1);
        expect(sorted(await ok('SMEMBERS', k('s')))).toEqual(['a', 'b', 'c']);
        await ok('SADD', k('t'), 'b', 'c', 'e');
        expect(sorted(await ok('SINTER', k('s'), k('t')))).toEqual(['b', 'c']);
        expect(sorted(await ok('SUNION', k('s'), k('t')))).toEqual(['a', 'b', 'c', 'e']);
        expect(sorted(await ok('SDIFF', k('s'), k('t')))).toEqual(['a']);
        expect(await ok('SINTERSTORE', k('d'), k('s'), k('t'))).toBe(2);
        expect(await ok('SUNIONSTORE', k('d'), k('s'), k('t'))).toBe(4);
        expect(await ok('SDIFFSTORE', k('d'), k('s'), k('s'))).toBe(0);
        expect(await ok('EXISTS', k('d'))).toBe(0);
        await ok('SADD', k('i'), 30, 1, 20, -5);
        expect(await ok('SMEMBERS', k('i'))).toEqual(['-5', '1', '20', '30']);
        expect(await ok('SSCAN', k('i'), 0, 'MATCH', '*0')).toEqual(['0', ['20', '30']]);
        const popped = (await ok('SPOP', k('i'), 2)) as string[];
        expect(popped).toHaveLength(2);
        expect(await ok('SCARD', k('i'))).toBe(2);
        const rand = (await ok('SRANDMEMBER', k('s'), -5)) as string[];
        expect(rand).toHaveLength(5);
        expect(rand.every((m) => ['a', 'b', 'c'].includes(m))).toBe(true);
        expect(sorted(await ok('SRANDMEMBER', k('s'), 10))).toEqual(['a', 'b', 'c']);
        expect(await ok('SPOP', k('none'))).toBeNull();
        expect(await ok('SPOP', k('none'), 3)).toEqual([]);
        expect(await err('SPOP', k('s'), -1)).toBe('ERR value is out of range, must be positive');
      });
    });

    describe('sorted sets', () => {
      it('implements ZADD with NX, XX, GT, LT, CH and INCR', async () => {
        expect(await redis.zadd(k('z'), { score: 1, member: 'a' }, { score: 2, member: 'b' })).toBe(
          2,
        );
        expect(await ok('ZADD', k('z'), 'CH', 5, 'a', 2, 'b', 9, 'c')).toBe(2);
        expect(await ok('ZADD', k('z'), 'XX', 'CH', 6, 'a', 7, 'x')).toBe(1);
        expect(await ok('ZADD', k('z'), 'NX', 0, 'a', 8, 'd')).toBe(1);
        expect(await ok('ZADD', k('z'), 'GT', 'CH', 1, 'a', 10, 'b')).toBe(1);
        expect(await ok('ZADD', k('z'), 'LT', 'CH', 1, 'a', 100, 'b')).toBe(1);
        expect(await ok('ZADD', k('z'), 'INCR', 2.5, 'a')).toBe('3.5');
        expect(await ok('ZADD', k('z'), 'NX', 'INCR', 1, 'a')).toBeNull();
        expect(await ok('ZINCRBY', k('z'), '0.1', 'a')).toBe('3.6000000000000001');
        expect(await redis.zincrby(k('z'), 1, 'n')).toBe(1);
        expect(await err('ZADD', k('z'), 'NX', 'XX', 1, 'a')).toBe(
          'ERR XX and NX options at the same time are not compatible',
        );
        expect(await err('ZADD', k('z'), 'GT', 'LT', 1, 'a')).toBe(
          'ERR GT, LT, and/or NX options at the same time are not compatible',
        );
        expect(await err('ZADD', k('z'), 'INCR', 1, 'a', 2, 'b')).toBe(
          'ERR INCR option supports a single increment-element pair',
        );
        expect(await err('ZADD', k('z'), 'one', 'a')).toBe('ERR value is not a valid float');
        expect(await err('ZADD', k('z'), 1, 'a', 2)).toBe('ERR syntax error');
        expect(await ok('ZRANGE', k('z'), 0, -1, 'WITHSCORES')).toEqual([
          'n',
          '1',
          'a',
          '3.6000000000000001',
          'd',
          '8',
          'c',
          '9',
          'b',
          '10',
        ]);
      });

      it('ranges by rank, score and lex, forward and reverse, with LIMIT', async () => {
        await ok('ZADD', k('z'), 1, 'a', 2, 'b', 3, 'c', 4, 'd', 5, 'e');
        expect(await ok('ZRANGE', k('z'), 1, 2)).toEqual(['b', 'c']);
        expect(await ok('ZRANGE', k('z'), 0, 1, 'REV', 'WITHSCORES')).toEqual(['e', '5', 'd', '4']);
        expect(await ok('ZRANGE', k('z'), '(1', 3, 'BYSCORE')).toEqual(['b', 'c']);
        expect(await ok('ZRANGE', k('z'), '+inf', '-inf', 'BYSCORE', 'REV', 'LIMIT', 1, 2)).toEqual(
          ['d', 'c'],
        );
        expect(await ok('ZRANGE', k('z'), '[b', '(d', 'BYLEX')).toEqual(['b', 'c']);
        expect(await redis.zrange(k('z'), 2, 4, { byScore: true })).toEqual(['b', 'c', 'd']);
        expect(await ok('ZRANGEBYSCORE', k('z'), 2, 4, 'WITHSCORES', 'LIMIT', 0, 2)).toEqual([
          'b',
          '2',
          'c',
          '3',
        ]);
        expect(await ok('ZREVRANGE', k('z'), 0, 1)).toEqual(['e', 'd']);
        expect(await ok('ZRANK', k('z'), 'c')).toBe(2);
        expect(await ok('ZREVRANK', k('z'), 'c')).toBe(2);
        expect(await ok('ZRANK', k('z'), 'zz')).toBeNull();
        expect(await ok('ZCOUNT', k('z'), '(1', 4)).toBe(3);
        expect(await ok('ZSCORE', k('z'), 'b')).toBe('2');
        expect(await ok('ZMSCORE', k('z'), 'b', 'zz')).toEqual(['2', null]);
        expect(await ok('ZCARD', k('z'))).toBe(5);
        expect(await err('ZRANGE', k('z'), 0, 1, 'LIMIT', 0, 1)).toBe(
          'ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX',
        );
        expect(await err('ZRANGE', k('z'), 'a', 'b', 'BYSCORE')).toBe(
          'ERR min or max is not a float',
        );
        expect(await err('ZRANGE', k('z'), 'a', 'b', 'BYLEX')).toBe(
          'ERR min or max not valid string range item',
        );
      });

      it('removes and pops', async () => {
        await ok('ZADD', k('z'), 1, 'a', 2, 'b', 3, 'c', 4, 'd', 5, 'e', 6, 'f');
        expect(await ok('ZREM', k('z'), 'a', 'zz')).toBe(1);
        expect(await ok('ZREMRANGEBYSCORE', k('z'), '-inf', '(3')).toBe(1);
        expect(await ok('ZREMRANGEBYRANK', k('z'), -1, -1)).toBe(1);
        expect(await ok('ZPOPMIN', k('z'))).toEqual(['c', '3']);
        expect(await ok('ZPOPMAX', k('z'), 5)).toEqual(['e', '5', 'd', '4']);
        expect(await ok('EXISTS', k('z'))).toBe(0);
        expect(await ok('ZPOPMIN', k('z'))).toEqual([]);
      });

      it('combines with ZUNIONSTORE and ZINTERSTORE, WEIGHTS and AGGREGATE', async () => {
        await ok('ZADD', k('a'), 1, 'x', 2, 'y', 3, 'z');
        await ok('ZADD', k('b'), 10, 'y', 20, 'z', 30, 'w');
        expect(await ok('ZUNIONSTORE', k('d'), 2, k('a'), k('b'))).toBe(4);
        expect(await ok('ZRANGE', k('d'), 0, -1, 'WITHSCORES')).toEqual([
          'x',
          '1',
          'y',
          '12',
          'z',
          '23',
          'w',
          '30',
        ]);
        expect(await ok('ZINTERSTORE', k('d'), 2, k('a'), k('b'), 'WEIGHTS', 2, '0.5')).toBe(2);
        expect(await ok('ZRANGE', k('d'), 0, -1, 'WITHSCORES')).toEqual(['y', '9', 'z', '16']);
        expect(await ok('ZINTERSTORE', k('d'), 2, k('a'), k('b'), 'AGGREGATE', 'MAX')).toBe(2);
        expect(await ok('ZRANGE', k('d'), 0, -1, 'WITHSCORES')).toEqual(['y', '10', 'z', '20']);
        expect(await ok('ZUNIONSTORE', k('d'), 2, k('a'), k('b'), 'AGGREGATE', 'MIN')).toBe(4);
        expect(await ok('ZRANGE', k('d'), 0, -1, 'WITHSCORES')).toEqual([
          'x',
          '1',
          'y',
          '2',
          'z',
          '3',
          'w',
          '30',
        ]);
        expect(await err('ZUNIONSTORE', k('d'), 0, k('a'))).toBe(
          "ERR at least 1 input key is needed for 'zunionstore' command",
        );
        expect(await err('ZUNIONSTORE', k('d'), 1, k('a'), 'WEIGHTS', 'x')).toBe(
          'ERR weight value is not a float',
        );
        expect(await err('ZUNIONSTORE', k('d'), 1, k('a'), 'AGGREGATE', 'AVG')).toBe(
          'ERR syntax error',
        );
      });
    });

    describe('scripting', () => {
      it('runs EVAL and EVALSHA through the SDK, falling back on NOSCRIPT', async () => {
        const body = `-- ${prefix}\nreturn {KEYS[1], ARGV[1], redis.call('INCR', KEYS[1])}`;
        expect(await err('EVALSHA', sha1(body), 1, k('n'))).toBe(
          'NOSCRIPT No matching script. Please use EVAL.',
        );
        const script = redis.createScript<[string, string, number]>(body);
        expect(await script.exec([k('n')], ['x'])).toEqual([k('n'), 'x', 1]);
        expect(await ok('SCRIPT', 'EXISTS', sha1(body), sha1(`${body} `))).toEqual([1, 0]);
        expect(await script.exec([k('n')], ['y'])).toEqual([k('n'), 'y', 2]);
        expect(await ok('EVALSHA', sha1(body).toUpperCase(), 1, k('n'), 'z')).toEqual([
          k('n'),
          'z',
          3,
        ]);
        const other = `-- ${prefix} load\nreturn 7`;
        expect(await ok('SCRIPT', 'LOAD', other)).toBe(sha1(other));
        expect(await ok('EVALSHA', sha1(other), 0)).toBe(7);
      });

      it("converts between Lua and Redis replies by Redis' rules", async () => {
        expect(await ok('EVAL', 'return {1, 2, 3.7, -3.7, "x", nil, 5}', 0)).toEqual([
          1,
          2,
          3,
          -3,
          'x',
        ]);
        expect(await ok('EVAL', 'return {true, false, {ok="FINE"}, {1, {2}}}', 0)).toEqual([
          1,
          null,
          'FINE',
          [1, [2]],
        ]);
        expect(await ok('EVAL', 'return redis.status_reply("DONE")', 0)).toBe('DONE');
        expect(await err('EVAL', 'return redis.error_reply("MYERR went wrong")', 0)).toBe(
          'MYERR went wrong',
        );
        expect(await err('EVAL', 'return {err="custom failure"}', 0)).toBe('custom failure');
        expect(await ok('EVAL', 'return redis.call("GET", KEYS[1])', 1, k('none'))).toBeNull();
        expect(await ok('EVAL', 'return type(redis.call("GET", KEYS[1]))', 1, k('none'))).toBe(
          'boolean',
        );
        await ok('SET', k('s'), 'v');
        expect(await ok('EVAL', 'return redis.call("SET", KEYS[1], "w")', 1, k('s'))).toBe('OK');
        expect(await ok('EVAL', 'return redis.call("TYPE", KEYS[1])', 1, k('s'))).toBe('string');
        expect(await ok('EVAL', 'return redis.pcall("INCR", KEYS[1])["err"]', 1, k('s'))).toBe(
          'ERR value is not an integer or out of range',
        );
        expect(
          await ok(
            'EVAL',
            'return redis.call("SET", KEYS[1], 0.1) and redis.call("GET", KEYS[1])',
            1,
            k('f'),
          ),
        ).toBe('0.10000000000000001');
        expect(await ok('EVAL', 'return tostring(10 / 2) .. " " .. (2147483647 + 1)', 0)).toBe(
          '5 2147483648',
        );
        expect(await ok('EVAL', 'return {unpack({1, 2, 3})}', 0)).toEqual([1, 2, 3]);
        expect(await ok('EVAL', 'return redis.sha1hex("abc")', 0)).toBe(
          'a9993e364706816aba3e25717850c26c9cd0d89d',
        );
        expect(
          await ok(
            'EVAL',
            'redis.log(redis.LOG_NOTICE, "hello") return #KEYS + #ARGV',
            2,
            'a',
            'b',
            'c',
          ),
        ).toBe(3);
        expect(await ok('EVAL', 'return cjson.encode({1, "a/b"})', 0)).toBe('[1,"a\\/b"]');
      });

      it('reports script errors with Redis texts', async () => {
        await ok('SET', k('s'), 'abc');
        const incr = 'return redis.call("INCR", KEYS[1])';
        expect(await err('EVAL', incr, 1, k('s'))).toBe(
          `ERR value is not an integer or out of range script: ${sha1(incr)}, on @user_script:1.`,
        );
        const thrown = 'local x = 1\nerror("boom")';
        expect(await err('EVAL', thrown, 0)).toBe(
          `ERR user_script:2: boom script: ${sha1(thrown)}, on @user_script:2.`,
        );
        const global = 'return undefined_thing';
        expect(await err('EVAL', global, 0)).toBe(
          `ERR user_script:1: Script attempted to access nonexistent global variable 'undefined_thing' script: ${sha1(global)}, on @user_script:1.`,
        );
        const unknown = 'return redis.call("NOPE")';
        expect(await err('EVAL', unknown, 0)).toBe(
          `ERR Unknown Redis command called from script script: ${sha1(unknown)}, on @user_script:1.`,
        );
        expect(await err('EVAL', 'return 1', -1)).toBe("ERR Number of keys can't be negative");
        expect(await err('EVAL', 'return 1', 2, 'a')).toBe(
          "ERR Number of keys can't be greater than number of args",
        );
        expect(await err('EVALSHA', 'abc', 0)).toBe(
          'NOSCRIPT No matching script. Please use EVAL.',
        );
        expect(await err('SCRIPT', 'FLUSH', 'NOW')).toBe(
          'ERR SCRIPT FLUSH only support SYNC|ASYNC option',
        );
        const write = 'return redis.call("SET", KEYS[1], "x")';
        expect(await err('EVAL_RO', write, 1, k('s'))).toBe(
          `ERR Write commands are not allowed from read-only scripts. script: ${sha1(write)}, on @user_script:1.`,
        );
        expect(await ok('EVAL_RO', 'return redis.call("GET", KEYS[1])', 1, k('s'))).toBe('abc');
      });

      it('accepts #!lua shebangs with flags, including Upstash allow-key-locking', async () => {
        expect(await ok('EVAL', '#!lua flags=allow-key-locking\nreturn 1', 0)).toBe(1);
        const noWrites = '#!lua flags=no-writes\nreturn redis.call("SET", KEYS[1], 1)';
        expect(await err('EVAL', noWrites, 1, k('a'))).toBe(
          `ERR Write commands are not allowed from read-only scripts. script: ${sha1(noWrites)}, on @user_script:2.`,
        );
        expect(await err('EVAL_RO', '#!lua flags=allow-key-locking\nreturn 1', 0)).toBe(
          'ERR Can not execute a script with write flag using *_ro command.',
        );
        expect(await err('EVAL', '#!lua flags=bogus\nreturn 1', 0)).toBe(
          'ERR Unexpected flag in script shebang: bogus',
        );
        expect(await err('EVAL', '#!python\nreturn 1', 0)).toBe(
          'ERR Unexpected engine in script shebang: #!python',
        );
        const failing = `#!lua flags=allow-key-locking\n-- ${prefix}\nreturn redis.call("INCR", KEYS[1])`;
        await ok('SET', k('s'), 'x');
        expect(await err('EVAL', failing, 1, k('s'))).toBe(
          `ERR value is not an integer or out of range script: ${sha1(failing)}, on @user_script:3.`,
        );
        const loaded = `#!lua flags=allow-key-locking\n-- ${prefix}\nreturn 42`;
        expect(await ok('SCRIPT', 'LOAD', loaded)).toBe(sha1(loaded));
        expect(await ok('SCRIPT', 'EXISTS', sha1(loaded))).toEqual([1]);
        expect(await ok('EVALSHA', sha1(loaded), 0)).toBe(42);
      });

      it('runs rate-limit scripts shaped like @upstash/ratelimit', async () => {
        const fixed = redis.createScript<number>(FIXED_WINDOW);
        const hits: number[] = [];
        for (let i = 0; i < 4; i++) hits.push(await fixed.exec([k('fixed')], ['60000', '1']));
        expect(hits).toEqual([1, 2, 3, 4]);
        expect(await redis.pttl(k('fixed'))).toBeGreaterThan(59_000);
        const sliding = redis.createScript<[number, number, number]>(SLIDING_WINDOW);
        const now = Date.now();
        const results: [number, number, number][] = [];
        for (let i = 0; i < 4; i++)
          results.push(await sliding.exec([k('slide')], ['3', String(now + i), '1000', `r${i}`]));
        expect(results.map((r) => r.slice(0, 2))).toEqual([
          [1, 2],
          [1, 1],
          [1, 0],
          [0, 0],
        ]);
        expect(results[3]?.[2]).toBe(now + 1000);
        expect(await redis.zcard(k('slide'))).toBe(3);
        const later = await sliding.exec([k('slide')], ['3', String(now + 1500), '1000', 'late']);
        expect(later.slice(0, 2)).toEqual([1, 2]);
      });
    });

    describe('pipelines and transactions', () => {
      it('runs SDK pipelines with per-command results and errors', async () => {
        const p = redis.pipeline();
        p.set(k('a'), 1).incr(k('a')).lpush(k('a'), 'x').get(k('a'));
        await expect(p.exec()).rejects.toThrow(
          'Command 3 [ lpush ] failed: WRONGTYPE Operation against a key holding the wrong kind of value',
        );
        const res = await raw(service, {
          path: '/pipeline',
          body: JSON.stringify([['GET', k('b')], ['INCR', k('b')], ['BOGUS']]),
        });
        expect(res.status).toBe(200);
        expect(res.json).toEqual([
          { result: null },
          { result: 1 },
          { error: "ERR unknown command 'BOGUS', with args beginning with: " },
        ]);
      });

      it('runs MULTI/EXEC atomically, errors in place', async () => {
        expect(await redis.multi().set(k('m'), 1).incr(k('m')).get(k('m')).exec()).toEqual([
          'OK',
          2,
          2,
        ]);
        const tx = await raw(service, {
          path: '/multi-exec',
          body: JSON.stringify([
            ['SET', k('t'), 'a'],
            ['INCR', k('t')],
            ['APPEND', k('t'), 'b'],
          ]),
        });
        expect(tx.status).toBe(200);
        expect(tx.json).toEqual([
          { result: 'OK' },
          { error: 'ERR value is not an integer or out of range' },
          { result: 2 },
        ]);
        // Concurrent transactions never interleave: each one sees its own INCR.
        const runs = await Promise.all(
          Array.from({ length: 30 }, () =>
            raw(service, {
              path: '/multi-exec',
              body: JSON.stringify([
                ['INCR', k('c')],
                ['GET', k('c')],
                ['INCRBY', k('c'), 0],
              ]),
            }),
          ),
        );
        for (const run of runs) {
          const [incr, get, again] = run.json as { result: number | string }[];
          expect(String(incr?.result)).toBe(get?.result);
          expect(again?.result).toBe(incr?.result);
        }
        expect(await ok('GET', k('c'))).toBe('30');
      });

      it('discards a transaction with a queue-time error (EXECABORT, 400)', async () => {
        const res = await raw(service, {
          path: '/multi-exec',
          body: JSON.stringify([['SET', k('x'), '1'], ['NOPE', 'a'], ['GET']]),
        });
        expect(res.status).toBe(400);
        expect(res.json).toEqual({
          error: 'EXECABORT Transaction discarded because of previous errors.',
        });
        expect(await ok('EXISTS', k('x'))).toBe(0);
      });
    });

    describe('REST protocol', () => {
      it('encodes replies in base64 exactly as the SDK expects', async () => {
        await ok('SET', k('ok'), 'OK');
        await ok('SET', k('u'), 'ü');
        const enc = (cmd: Arg[]) => command(service, cmd, { base64: true }).then((r) => r.body);
        expect(await enc(['SET', k('a'), 'bar'])).toBe('{"result":"OK"}');
        expect(await enc(['GET', k('a')])).toBe(`{"result":"${b64('bar')}"}`);
        expect(await enc(['GET', k('ok')])).toBe(`{"result":"${b64('OK')}"}`);
        expect(await enc(['PING'])).toBe(`{"result":"${b64('PONG')}"}`);
        expect(await enc(['TYPE', k('a')])).toBe(`{"result":"${b64('string')}"}`);
        expect(await enc(['MGET', k('a'), k('none'), k('u')])).toBe(
          `{"result":["${b64('bar')}",null,"${b64('ü')}"]}`,
        );
        expect(await enc(['INCR', k('n')])).toBe('{"result":1}');
        expect(await enc(['GET', k('none')])).toBe('{"result":null}');
        expect(await enc(['EVAL', 'return {{ok="OK"}, {1, "x", {"y"}}}', 0])).toBe(
          `{"result":["${b64('OK')}",[1,"${b64('x')}",["${b64('y')}"]]]}`,
        );
        expect(await command(service, ['GET', k('u')]).then((r) => r.body)).toBe('{"result":"ü"}');
        const pipe = await raw(service, {
          path: '/pipeline',
          base64: true,
          body: JSON.stringify([
            ['SET', k('a'), 'x'],
            ['GET', k('a')],
            ['HGETALL', k('none')],
          ]),
        });
        expect(pipe.body).toBe(`[{"result":"OK"},{"result":"${b64('x')}"},{"result":[]}]`);
      });

      it('keeps values binary-safe (invalid UTF-8 is replaced only in plain JSON)', async () => {
        await ok(
          'EVAL',
          'return redis.call("SET", KEYS[1], string.char(255, 0, 104, 105))',
          1,
          k('bin'),
        );
        expect((await command(service, ['GET', k('bin')], { base64: true })).json).toEqual({
          result: Buffer.from([255, 0, 104, 105]).toString('base64'),
        });
        expect((await command(service, ['GET', k('bin')])).json).toEqual({
          result: '\ufffd\u0000hi',
        });
        expect(await ok('STRLEN', k('bin'))).toBe(4);
      });

      it('accepts the path form, with URL-decoding, a POST body value and query options', async () => {
        const got = await raw(service, { path: `/set/${encodeURIComponent(k('p'))}/a%2Fb%20c` });
        expect(got.json).toEqual({ result: 'OK' });
        expect(await ok('GET', k('p'))).toBe('a/b c');
        const posted = await raw(service, {
          path: `/set/${encodeURIComponent(k('q'))}?EX=100`,
          body: '{"raw":"json"}',
        });
        expect(posted.json).toEqual({ result: 'OK' });
        expect(await ok('GET', k('q'))).toBe('{"raw":"json"}');
        expect(await ok('TTL', k('q'))).toBe(100);
        const viaQuery = await raw(service, {
          path: `/get/${encodeURIComponent(k('p'))}?_token=${TOKEN}`,
          token: null,
        });
        expect(viaQuery.json).toEqual({ result: 'a/b c' });
      });

      it('answers 401 with Upstash body for a missing or wrong token', async () => {
        for (const token of [null, 'wrong', `${TOKEN}x`]) {
          const res = await command(service, ['PING'], { token });
          expect(res.status).toBe(401);
          expect(res.json).toEqual({ error: 'WRONGPASS invalid or missing auth token' });
        }
        const bad = sdk(service, { token: 'nope' });
        await expect(bad.get(k('a'))).rejects.toThrow('WRONGPASS invalid or missing auth token');
      });

      it('refuses commands that break the REST model, with Upstash text', async () => {
        for (const name of ['SELECT', 'subscribe', 'MULTI', 'QUIT', 'MONITOR']) {
          expect(await err(name, '1')).toBe(
            `ERR Command is not available: '${name.toUpperCase()}'. See https://upstash.com/docs/redis/overall/rediscompatibility for details`,
          );
        }
        const pipe = await raw(service, {
          path: '/pipeline',
          body: JSON.stringify([['SELECT', '1'], ['PING']]),
        });
        expect(pipe.json).toEqual([
          {
            error:
              "ERR Command is not available: 'SELECT'. See https://upstash.com/docs/redis/overall/rediscompatibility for details",
          },
          { result: 'PONG' },
        ]);
      });

      it('answers unknown commands with Redis 7 text', async () => {
        expect(await err('xyz', 'a', 'b')).toBe(
          "ERR unknown command 'xyz', with args beginning with: 'a' 'b' ",
        );
        expect(await err('FOO')).toBe("ERR unknown command 'FOO', with args beginning with: ");
        expect(await err('GET')).toBe("ERR wrong number of arguments for 'get' command");
        expect(await err('SCRIPT', 'NOPE')).toBe("ERR unknown subcommand 'NOPE'. Try SCRIPT HELP.");
        await expect(redis.eval('return redis.call("NOPE")', [], [])).rejects.toThrow(
          'Unknown Redis command called from script',
        );
      });

      it('rejects malformed bodies with 400 and never falls over', async () => {
        const cases: [string, string, string][] = [
          ['/', 'not json', 'ERR failed to parse the request body as JSON'],
          [
            '/',
            '{"cmd":"GET"}',
            'ERR a command must be a non-empty JSON array of strings and numbers',
          ],
          ['/', '[]', 'ERR a command must be a non-empty JSON array of strings and numbers'],
          [
            '/',
            '[["GET","a"]]',
            'ERR a command must be a non-empty JSON array of strings and numbers',
          ],
          [
            '/',
            '["GET",null]',
            'ERR a command must be a non-empty JSON array of strings and numbers',
          ],
          [
            '/',
            '["GET",{"a":1}]',
            'ERR a command must be a non-empty JSON array of strings and numbers',
          ],
          [
            '/pipeline',
            '["GET","a"]',
            'ERR a command must be a non-empty JSON array of strings and numbers',
          ],
          ['/pipeline', '[]', 'ERR the request body must be a non-empty JSON array of commands'],
          [
            '/pipeline',
            '{"a":[1]}',
            'ERR the request body must be a non-empty JSON array of commands',
          ],
          [
            '/multi-exec',
            '[[],["GET","a"]]',
            'ERR a command must be a non-empty JSON array of strings and numbers',
          ],
          [
            '/multi-exec',
            '[["GET",["nested"]]]',
            'ERR a command must be a non-empty JSON array of strings and numbers',
          ],
        ];
        for (const [path, body, error] of cases) {
          const res = await raw(service, { path, body });
          expect(res.status, `${path} ${body}`).toBe(400);
          expect(res.json).toEqual({ error });
        }
        const huge = JSON.stringify(['SET', k('big'), 'x'.repeat(1024 * 1024)]);
        const tooBig = await raw(service, { body: huge });
        expect(tooBig.status).toBe(400);
        expect(tooBig.json).toEqual({ error: 'ERR max request size exceeded' });
        expect(await ok('EXISTS', k('big'))).toBe(0);
        const notAllowed = await raw(service, { method: 'DELETE' });
        expect(notAllowed.status).toBe(405);
        expect(await redis.ping()).toBe('PONG');
      });

      it('enforces the read-only token with Upstash NOPERM', async () => {
        await ok('SET', k('r'), 'v');
        const ro = sdk(service, { token: READONLY_TOKEN });
        expect(await ro.get(k('r'))).toBe('v');
        const denied = (cmd: Arg[]) => command(service, cmd, { token: READONLY_TOKEN });
        const set = await denied(['SET', k('r'), 'w']);
        expect(set.status).toBe(400);
        expect(set.json).toEqual({
          error: "NOPERM this user has no permissions to run the 'set' command or its subcommand",
        });
        expect((await denied(['EVAL', 'return 1', 0])).json).toEqual({
          error: "NOPERM this user has no permissions to run the 'eval' command or its subcommand",
        });
        expect((await denied(['KEYS', '*'])).json).toEqual({
          error: "NOPERM this user has no permissions to run the 'keys' command or its subcommand",
        });
        expect(
          (await denied(['EVAL_RO', 'return redis.call("GET", KEYS[1])', 1, k('r')])).json,
        ).toEqual({ result: 'v' });
        await expect(ro.set(k('r'), 'w')).rejects.toThrow('NOPERM');
        expect(await ok('GET', k('r'))).toBe('v');
      });

      it('returns an increasing upstash-sync-token and the SDK keeps it', async () => {
        const first = await command(service, ['SET', k('a'), '1']);
        const a = Number(first.headers.get('upstash-sync-token'));
        const read = await command(service, ['GET', k('a')]);
        expect(Number(read.headers.get('upstash-sync-token'))).toBeGreaterThanOrEqual(a);
        const second = await command(service, ['SET', k('a'), '2']);
        expect(Number(second.headers.get('upstash-sync-token'))).toBeGreaterThan(a);
        const client = sdk(service);
        await client.set(k('b'), 1);
        expect(Number(client.readYourWritesSyncToken)).toBeGreaterThan(a);
        const echoed = await command(service, ['GET', k('a')], {
          headers: { 'upstash-sync-token': '999999999' },
        });
        expect(echoed.headers.get('upstash-sync-token')).toBe('999999999');
      });
    });
  });
}
