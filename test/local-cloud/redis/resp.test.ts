import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RedisService } from '../../../tools/local-cloud/redis/index.ts';
import { startRedis } from '../../../tools/local-cloud/redis/index.ts';
import { ErrorReply, type Reply, Status } from '../../../tools/local-cloud/redis/reply.ts';
import {
  encodeCommand,
  parseRedisUrl,
  RespConnection,
  RespParser,
} from '../../../tools/local-cloud/redis/resp.ts';
import { stripUpstashFlags } from '../../../tools/local-cloud/redis/server-backend.ts';
import { cleanup, command, REDIS_URL, startTarget, uniquePrefix } from './targets.ts';

describe('RESP2 parser', () => {
  const stream =
    '+OK\r\n$3\r\nbar\r\n:42\r\n-ERR bad thing\r\n$-1\r\n*-1\r\n*3\r\n*1\r\n+a\r\n$0\r\n\r\n:-7\r\n' +
    ':9223372036854775807\r\n$4\r\n\xff\r\n\x00\r\n';
  const expected: Reply[] = [
    new Status('OK'),
    'bar',
    42,
    new ErrorReply('ERR bad thing'),
    null,
    null,
    [[new Status('a')], '', -7],
    9223372036854775807n,
    '\xff\r\n\x00',
  ];

  it('keeps every reply type apart (status vs bulk, nil, nested arrays, 64-bit integers)', () => {
    const out: Reply[] = [];
    new RespParser((r) => out.push(r)).feed(Buffer.from(stream, 'latin1'));
    expect(out).toEqual(expected);
  });

  it('parses a stream split at every byte', () => {
    const out: Reply[] = [];
    const parser = new RespParser((r) => out.push(r));
    for (const byte of Buffer.from(stream, 'latin1')) parser.feed(Buffer.from([byte]));
    expect(out).toEqual(expected);
  });

  it('encodes commands as arrays of bulk strings, bytes preserved', () => {
    expect(encodeCommand(['SET', 'k', '\xe9']).toString('latin1')).toBe(
      '*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\n\xe9\r\n',
    );
  });

  it('reads redis:// and rediss:// URLs', () => {
    expect(parseRedisUrl('rediss://user:p%40ss@example.com:6380/2')).toEqual({
      host: 'example.com',
      port: 6380,
      tls: true,
      username: 'user',
      password: 'p@ss',
      db: 2,
    });
    expect(parseRedisUrl('redis://127.0.0.1')).toMatchObject({ port: 6379, tls: false, db: 0 });
    expect(() => parseRedisUrl('http://x')).toThrow('not a redis:// URL');
  });
});

describe('Upstash script flags for a Redis server', () => {
  it('strips allow-key-locking and keeps line numbers', () => {
    expect(stripUpstashFlags('#!lua flags=allow-key-locking\nreturn 1')).toBe(
      '#!lua flags=\nreturn 1',
    );
    expect(stripUpstashFlags('#!lua flags=no-writes,allow-key-locking\nreturn 1')).toBe(
      '#!lua flags=no-writes\nreturn 1',
    );
    expect(stripUpstashFlags('#!lua flags=no-writes\nreturn 1')).toBeUndefined();
    expect(stripUpstashFlags('return 1')).toBeUndefined();
  });

  it('refuses to start when the server cannot be reached', async () => {
    await expect(
      startRedis({ port: 0, token: 't', backend: { kind: 'server', url: 'redis://127.0.0.1:1' } }),
    ).rejects.toThrow();
  });
});

if (REDIS_URL) {
  describe('RESP connection and server backend (Redis server)', () => {
    let conn: RespConnection;
    let service: RedisService;
    const prefix = uniquePrefix('resp');

    beforeAll(async () => {
      conn = await RespConnection.open(parseRedisUrl(REDIS_URL as string));
      service = await startTarget('server');
    });
    afterAll(async () => {
      await cleanup(service, prefix);
      conn.close();
      await service.close();
    });

    it('tells a status reply from a bulk string with the same text', async () => {
      const [set, get, type] = await conn.pipeline([
        ['SET', `${prefix}k`, 'OK'],
        ['GET', `${prefix}k`],
        ['TYPE', `${prefix}k`],
      ]);
      expect(set).toEqual(new Status('OK'));
      expect(get).toBe('OK');
      expect(type).toEqual(new Status('string'));
    });

    it('gives a blocking command its own connection, within a time limit', async () => {
      const started = Date.now();
      const blocked = command(service, ['BLPOP', `${prefix}empty`, '0.3']);
      const ping = await command(service, ['PING']);
      expect(ping.json).toEqual({ result: 'PONG' });
      expect(Date.now() - started).toBeLessThan(250);
      expect((await blocked).json).toEqual({ result: null });
      expect(Date.now() - started).toBeGreaterThanOrEqual(250);
      await command(service, ['RPUSH', `${prefix}list`, 'x']);
      expect((await command(service, ['BLPOP', `${prefix}list`, '1'])).json).toEqual({
        result: [`${prefix}list`, 'x'],
      });
      for (const timeout of ['0', '60']) {
        expect((await command(service, ['BLPOP', `${prefix}list`, timeout])).json).toEqual({
          error:
            "ERR Command is not available: 'BLPOP'. See https://upstash.com/docs/redis/overall/rediscompatibility for details",
        });
      }
    });
  });
}
