import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RedisService } from '../../../tools/local-cloud/redis/index.ts';
import { conformanceSuite } from './conformance.ts';
import { BATCHES, CORPUS } from './corpus.ts';
import {
  BACKENDS,
  cleanup,
  command,
  REDIS_URL,
  raw,
  startTarget,
  uniquePrefix,
} from './targets.ts';

for (const backend of BACKENDS) conformanceSuite(backend, () => startTarget(backend));

// With a server at hand, the same command sequences must get byte-identical replies from both.
if (REDIS_URL) {
  describe('embedded engine vs Redis server, reply for reply', () => {
    let embedded: RedisService;
    let server: RedisService;
    const prefixes: string[] = [];

    beforeAll(async () => {
      embedded = await startTarget('embedded');
      server = await startTarget('server');
    });
    afterAll(async () => {
      for (const p of prefixes) await cleanup(server, p);
      await Promise.all([embedded.close(), server.close()]);
    });

    const fresh = () => {
      const p = uniquePrefix('diff');
      prefixes.push(p);
      return (arg: string) => arg.replaceAll('{p}', p);
    };

    for (const { title, commands } of CORPUS) {
      it(`answers identically: ${title}`, async () => {
        // Each encoding replays the sequence on keys of its own: running a write twice on the
        // same keys would make replies depend on the milliseconds between the runs.
        for (const base64 of [false, true]) {
          const sub = fresh();
          for (const cmd of commands) {
            const args = cmd.map(sub);
            const [a, b] = [
              await command(embedded, args, { base64 }),
              await command(server, args, { base64 }),
            ];
            expect(
              `${a.status} ${a.body}`,
              `${JSON.stringify(cmd)}${base64 ? ' (base64)' : ''}`,
            ).toBe(`${b.status} ${b.body}`);
          }
        }
      });
    }

    it('answers pipelines and transactions identically', async () => {
      for (const { path, commands } of BATCHES) {
        for (const base64 of [false, true]) {
          const sub = fresh();
          const body = JSON.stringify(commands.map((c) => c.map(sub)));
          const [a, b] = [
            await raw(embedded, { path, body, base64 }),
            await raw(server, { path, body, base64 }),
          ];
          expect(`${a.status} ${a.body}`, `${path} ${body}`).toBe(`${b.status} ${b.body}`);
        }
      }
    });
  });
}
