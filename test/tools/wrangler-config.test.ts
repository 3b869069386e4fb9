import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { unstable_readConfig } from 'wrangler';
import { EnvSchema, OPTIONAL_SECRETS } from '../../shared/env.ts';
import { DEAD_LETTER_QUEUES, WORK_QUEUES } from '../../workers/consumers/queues.ts';
import { CRON_SCHEDULE } from '../../workers/cron/schedule.ts';

const ROOT = join(import.meta.dirname, '../..');
type QueueConsumer = {
  queue: string;
  dead_letter_queue?: string;
  max_batch_size?: number;
  max_batch_timeout?: number;
  max_retries?: number;
};

const config = unstable_readConfig({ config: join(ROOT, 'wrangler.toml') }, { hideWarnings: true });
const queueConsumers = (config.queues.consumers ?? []) as QueueConsumer[];
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** wrangler.toml, the code and the README must describe the same Worker. */
describe('wrangler.toml', () => {
  it('triggers exactly the cron expressions the scheduled entry has jobs for', () => {
    expect([...(config.triggers.crons ?? [])].sort()).toEqual(Object.keys(CRON_SCHEDULE).sort());
  });

  it('consumes every work queue with a dead-letter queue and explicit batch and retry settings', () => {
    const consumers = new Map(queueConsumers.map((c) => [c.queue, c]));
    for (const [key, queue] of Object.entries(WORK_QUEUES)) {
      const consumer = consumers.get(queue);
      expect(consumer, queue).toBeDefined();
      expect(consumer?.dead_letter_queue).toBe(DEAD_LETTER_QUEUES[key as keyof typeof WORK_QUEUES]);
      expect(consumer?.max_batch_size, queue).toBeGreaterThan(0);
      expect(consumer?.max_batch_timeout, queue).toBeGreaterThan(0);
      expect(consumer?.max_retries, queue).toBeGreaterThan(0);
    }
    for (const queue of Object.values(DEAD_LETTER_QUEUES))
      expect(consumers.has(queue), queue).toBe(true);
    expect(consumers.size).toBe(
      Object.keys(WORK_QUEUES).length + Object.keys(DEAD_LETTER_QUEUES).length,
    );
  });

  it('declares every binding, var and secret the env schema requires, and nothing it ignores', () => {
    const declared = [
      ...(config.kv_namespaces as Array<{ binding: string }>).map((kv) => kv.binding),
      ...(config.r2_buckets as Array<{ binding: string }>).map((r2) => r2.binding),
      ...((config.queues.producers ?? []) as Array<{ binding: string }>).map((p) => p.binding),
      ...(config.durable_objects.bindings as Array<{ name: string }>).map((d) => d.name),
      ...Object.keys(config.vars),
      ...(config.secrets?.required ?? []),
      ...OPTIONAL_SECRETS,
    ].sort();
    expect(declared).toEqual(Object.keys(EnvSchema.shape).sort());
  });

  it('migrates every Durable Object class it binds, as SQLite-backed classes', () => {
    const classes = (config.durable_objects.bindings as Array<{ class_name: string }>)
      .map((d) => d.class_name)
      .sort();
    const migrated = config.migrations
      .flatMap((m: { new_sqlite_classes?: string[] }) => m.new_sqlite_classes ?? [])
      .sort();
    expect(migrated).toEqual(classes);
  });

  it('has every var and secret documented in the README', () => {
    const settings = [
      ...Object.keys(config.vars),
      ...(config.secrets?.required ?? []),
      ...OPTIONAL_SECRETS,
    ];
    for (const name of settings) {
      expect(readme, name).toContain(`\`${name}\``);
    }
  });
});
