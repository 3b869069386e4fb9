import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { globMatch } from '../../../tools/local-cloud/redis/engine/glob.ts';
import { Engine } from '../../../tools/local-cloud/redis/engine/index.ts';
import {
  formatDouble,
  formatG,
  formatLongDouble,
} from '../../../tools/local-cloud/redis/engine/numbers.ts';
import { startRedis } from '../../../tools/local-cloud/redis/index.ts';
import { ErrorReply, encodeResult, Status } from '../../../tools/local-cloud/redis/reply.ts';
import { command, sdk, TOKEN } from './targets.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('embedded engine', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('FLUSHDB and FLUSHALL empty the database (embedded only: never run against the shared server)', async () => {
    const service = await startRedis({ port: 0, token: TOKEN });
    try {
      await command(service, ['MSET', 'a', '1', 'b', '2']);
      expect((await command(service, ['DBSIZE'])).json).toEqual({ result: 2 });
      expect((await command(service, ['FLUSHDB'])).json).toEqual({ result: 'OK' });
      expect((await command(service, ['DBSIZE'])).json).toEqual({ result: 0 });
      await command(service, ['SET', 'c', '3']);
      expect((await command(service, ['FLUSHALL', 'ASYNC'])).json).toEqual({ result: 'OK' });
      expect((await command(service, ['EXISTS', 'c'])).json).toEqual({ result: 0 });
      expect((await command(service, ['FLUSHDB', 'NOW'])).json).toEqual({
        error: 'ERR syntax error',
      });
    } finally {
      await service.close();
    }
  });

  it('SCRIPT FLUSH forgets loaded scripts', async () => {
    const service = await startRedis({ port: 0, token: TOKEN });
    try {
      const sha = (await command(service, ['SCRIPT', 'LOAD', 'return 1'])).json as {
        result: string;
      };
      expect((await command(service, ['SCRIPT', 'FLUSH'])).json).toEqual({ result: 'OK' });
      expect((await command(service, ['EVALSHA', sha.result, 0])).json).toEqual({
        error: 'NOSCRIPT No matching script. Please use EVAL.',
      });
    } finally {
      await service.close();
    }
  });

  it('snapshots to dataFile on close and loads it on start, TTLs as absolute times', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'redis-snapshot-'));
    dirs.push(dir);
    const dataFile = join(dir, 'redis.json');
    const first = await startRedis({
      port: 0,
      token: TOKEN,
      backend: { kind: 'embedded', dataFile },
    });
    const redis = sdk(first);
    await redis.set('s', 'héllo', { ex: 100 });
    await redis.set('gone', 'x', { px: 50 });
    await redis.hset('h', { f: 'v' });
    await redis.rpush('l', 'a', 'b');
    await redis.sadd('t', 'x');
    await command(first, ['ZADD', 'z', '1.5', 'm', 'inf', 'i']);
    await command(first, [
      'EVAL',
      'return redis.call("SET", KEYS[1], string.char(0, 255))',
      1,
      'bin',
    ]);
    await first.close();
    expect(existsSync(dataFile)).toBe(true);
    expect(JSON.parse(readFileSync(dataFile, 'utf8')).version).toBe(1);

    await sleep(80);
    const second = await startRedis({
      port: 0,
      token: TOKEN,
      backend: { kind: 'embedded', dataFile },
    });
    try {
      const again = sdk(second);
      expect(await again.get('s')).toBe('héllo');
      const ttl = await again.ttl('s');
      expect(ttl).toBeGreaterThan(95);
      expect(ttl).toBeLessThanOrEqual(100);
      expect(await again.exists('gone')).toBe(0);
      expect(await again.hgetall('h')).toEqual({ f: 'v' });
      expect(await again.lrange('l', 0, -1)).toEqual(['a', 'b']);
      expect(await again.smembers('t')).toEqual(['x']);
      expect((await command(second, ['ZRANGE', 'z', 0, -1, 'WITHSCORES'])).json).toEqual({
        result: ['m', '1.5', 'i', 'inf'],
      });
      expect((await command(second, ['GET', 'bin'], { base64: true })).json).toEqual({
        result: 'AP8=',
      });
    } finally {
      await second.close();
    }
  });

  it('removes expired keys in the background, without anyone reading them', async () => {
    const engine = new Engine();
    engine.startSweeper();
    try {
      engine.execute(['SET', 'a', '1', 'PX', '20']);
      engine.execute(['SET', 'b', '1', 'PX', '20']);
      engine.execute(['SET', 'c', '1']);
      expect(engine.db.data.size).toBe(3);
      await sleep(250);
      expect([...engine.db.data.keys()]).toEqual(['c']);
      expect(engine.db.expires.size).toBe(0);
    } finally {
      engine.stop();
    }
  });

  it('stops a runaway script with an error and keeps serving', () => {
    const engine = new Engine({ scriptTimeLimitMs: 50 });
    const reply = engine.execute(['EVAL', 'while true do end', '0']);
    expect(reply).toBeInstanceOf(ErrorReply);
    expect((reply as ErrorReply).message).toMatch(/^ERR Script exceeded the 50 ms time limit/);
    expect(engine.execute(['EVAL', 'return 1', '0'])).toBe(1);
  });

  it('does not implement blocking commands (the server backend does): Redis unknown-command text', () => {
    const engine = new Engine();
    expect(engine.execute(['BLPOP', 'k', '1'])).toEqual(
      new ErrorReply("ERR unknown command 'BLPOP', with args beginning with: 'k' '1' "),
    );
  });

  it('keeps the Lua VM atomic: a script sees no other command in between', async () => {
    const service = await startRedis({ port: 0, token: TOKEN });
    try {
      const script =
        'local v = redis.call("INCR", KEYS[1]) for i = 1, 20000 do end return {v, redis.call("GET", KEYS[1])}';
      const replies = await Promise.all(
        Array.from({ length: 20 }, () => command(service, ['EVAL', script, 1, 'n'])),
      );
      for (const reply of replies) {
        const [n, text] = (reply.json as { result: [number, string] }).result;
        expect(String(n)).toBe(text);
      }
    } finally {
      await service.close();
    }
  });
});

describe('reply encoding', () => {
  it('base64-encodes every string except a top-level status OK', () => {
    expect(encodeResult(new Status('OK'), true)).toBe('"OK"');
    expect(encodeResult('OK', true)).toBe('"T0s="');
    expect(encodeResult(new Status('PONG'), true)).toBe('"UE9ORw=="');
    expect(encodeResult([new Status('OK'), 1, null, ['\xff']], true)).toBe(
      '["T0s=",1,null,["/w=="]]',
    );
    expect(encodeResult(9223372036854775807n, true)).toBe('9223372036854775807');
    expect(encodeResult(['\xc3\xa9', new Status('OK')], false)).toBe('["é","OK"]');
  });
});

describe('number formatting and parsing', () => {
  it('prints doubles as Redis 7.0 does (%.17g, integers plain)', () => {
    expect(formatDouble(0.1)).toBe('0.10000000000000001');
    expect(formatDouble(3)).toBe('3');
    expect(formatDouble(1e20)).toBe('1e+20');
    expect(formatDouble(1e-5)).toBe('1.0000000000000001e-05');
    expect(formatDouble(Number.NEGATIVE_INFINITY)).toBe('-inf');
    expect(formatG(1e15, 14)).toBe('1e+15');
    expect(formatG(1 / 3, 14)).toBe('0.33333333333333');
    expect(formatLongDouble(10.6)).toBe('10.6');
    expect(formatLongDouble(1e21)).toBe('1000000000000000000000');
    expect(formatLongDouble(1e-7)).toBe('0.0000001');
  });
});

describe('glob matching (stringmatchlen)', () => {
  it.each([
    ['h?llo', 'hello', true],
    ['h*llo', 'heeeello', true],
    ['h[ae]llo', 'hallo', true],
    ['h[^e]llo', 'hello', false],
    ['h[a-b]llo', 'hbllo', true],
    ['h[b-a]llo', 'hallo', true],
    ['h\\*llo', 'h*llo', true],
    ['h\\*llo', 'hello', false],
    ['*', '', true],
    ['a*', '', false],
    ['[abc', 'a', true],
    ['user:*:name', 'user:42:name', true],
  ])('%s matches %s: %s', (pattern, text, expected) => {
    expect(globMatch(pattern, text)).toBe(expected);
  });
});
