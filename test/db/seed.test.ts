import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { effectiveCounts, type UnitSums } from '../../shared/experiments/clustered.ts';
import { analyzeExperiment } from '../../shared/experiments/stats.ts';
import { FlagDefinitionSchema } from '../../shared/flags/schema.ts';
import { newId } from '../../shared/ids.ts';
import { generateSecretsKey, openSecret } from '../../shared/secret-box.ts';
import { slugify } from '../../shared/text/slug.ts';
import { Mapping } from '../../shared/webhook-sources/mapping.ts';
import { migrateDatabase } from '../../tools/db/migrate.ts';
import { composeSampleItems } from '../../tools/db/sample-data/compose.ts';
import {
  composeSearchTraffic,
  SAMPLE_EXPERIMENTS,
  type SampleSearch,
} from '../../tools/db/sample-data/experiments.ts';
import { SAMPLE_FLAGS } from '../../tools/db/sample-data/flags.ts';
import { SAMPLE_SYNONYMS, SAMPLE_USERS } from '../../tools/db/sample-data/people.ts';
import { SAMPLE_ENDPOINT, SAMPLE_SOURCE } from '../../tools/db/sample-data/sources.ts';
import { type SeedResult, seed, seedDatabase } from '../../tools/db/seed.ts';
import {
  type PgliteServer,
  startPgliteServer,
} from '../../tools/local-cloud/neon/pglite-server.ts';
import { backends, openDatabase, type TestDatabase } from './harness.ts';

const items = composeSampleItems();
const EXPECTED: SeedResult = {
  organizations: 1,
  users: SAMPLE_USERS.length,
  memberships: SAMPLE_USERS.filter((u) => u.role).length,
  categories: 11,
  content: 360,
  translations: items.reduce((n, item) => n + Object.keys(item.translations).length, 0),
  versions: 360,
  synonyms: SAMPLE_SYNONYMS.length,
  flags: SAMPLE_FLAGS.length,
  experiments: SAMPLE_EXPERIMENTS.length,
  experiment_exposures: expect.any(Number),
  webhook_sources: 0,
  webhook_endpoints: 0,
  events: expect.any(Number),
};
const NOTHING: SeedResult = {
  organizations: 0,
  users: 0,
  memberships: 0,
  categories: 0,
  content: 0,
  translations: 0,
  versions: 0,
  synonyms: 0,
  flags: 0,
  experiments: 0,
  experiment_exposures: 0,
  webhook_sources: 0,
  webhook_endpoints: 0,
  events: 0,
};

describe('sample flags', () => {
  it('are valid as a create takes them', () => {
    for (const flag of SAMPLE_FLAGS) {
      const parsed = FlagDefinitionSchema.safeParse(flag);
      expect(parsed.error?.issues, flag.key).toBeUndefined();
    }
  });

  it('show a kill switch, a regex, a rollout, a deny-list, a split and a semver rule', () => {
    const rules = SAMPLE_FLAGS.flatMap((f) => f.rules);
    const operators = new Set(rules.flatMap((r) => r.conditions.map((c) => c.operator)));
    expect(SAMPLE_FLAGS.some((f) => f.kill_switch)).toBe(true);
    expect(SAMPLE_FLAGS.some((f) => f.deny.length > 0)).toBe(true);
    expect(rules.some((r) => r.rollout !== undefined)).toBe(true);
    expect(rules.some((r) => r.split !== undefined)).toBe(true);
    expect(operators).toContain('matches');
    expect(operators).toContain('semver_gte');
  });
});

describe('sample experiments', () => {
  const search = SAMPLE_EXPERIMENTS.find((e) => e.surface === 'search')!;
  const traffic = (now: Date) =>
    composeSearchTraffic({ ...search, id: newId('experiment') }, ['cnt_a', 'cnt_b'], now, (at) =>
      newId('query', at.getTime()),
    );

  /** One arm's unit sums, as the results query makes them. */
  const sums = (searches: SampleSearch[], variant: string): UnitSums => {
    const byKey = new Map<string, { n: number; x: number }>();
    for (const s of searches.filter((s) => s.variant === variant)) {
      const unit = byKey.get(s.targetingKey) ?? { n: 0, x: 0 };
      unit.n++;
      if (s.clicked) unit.x++;
      byKey.set(s.targetingKey, unit);
    }
    const units = [...byKey.values()];
    return {
      units: units.length,
      exposures: units.reduce((a, u) => a + u.n, 0),
      conversions: units.reduce((a, u) => a + u.x, 0),
      exposuresSquared: units.reduce((a, u) => a + u.n * u.n, 0),
      conversionsSquared: units.reduce((a, u) => a + u.x * u.x, 0),
      product: units.reduce((a, u) => a + u.x * u.n, 0),
    };
  };

  it("record the same searches and clicks on every run, inside the experiment's dates", () => {
    const now = new Date('2026-12-06T00:00:00Z');
    const first = traffic(now);
    const again = traffic(new Date('2027-03-01T00:00:00Z'));
    const shape = (s: SampleSearch) => [s.variant, s.targetingKey, s.query, Boolean(s.clicked)];
    expect(again.map(shape)).toEqual(first.map(shape));
    const day = 86_400_000;
    for (const s of first) {
      expect(s.at.getTime()).toBeGreaterThanOrEqual(now.getTime() - search.startedDaysAgo * day);
      expect(s.at.getTime()).toBeLessThan(now.getTime() - search.stoppedDaysAgo! * day);
    }
  });

  it('show a winner that the results would name, corrected for readers searching many times', () => {
    const searches = traffic(new Date());
    const arms = search.variants.map((v) => {
      const armSums = sums(searches, v.key);
      return { id: v.key, weight: v.weight, units: armSums.units, ...effectiveCounts(armSums) };
    });
    expect(arms[0]!.designEffect).toBeGreaterThan(1);
    expect(analyzeExperiment(arms)).toMatchObject({ decision: 'variant_wins', winner: 'fresher' });
  });
});

describe('sample content', () => {
  it('is the same on every run, whatever the time', () => {
    const again = composeSampleItems();
    expect(again.map((i) => i.translations)).toEqual(items.map((i) => i.translations));
    expect(again.map((i) => i.status)).toEqual(items.map((i) => i.status));
  });

  it('mixes bilingual and single-locale items and every workflow status', () => {
    const count = (locales: string) =>
      items.filter((i) => Object.keys(i.translations).sort().join('+') === locales).length;
    expect(count('ar+en')).toBeGreaterThan(200);
    expect(count('ar')).toBeGreaterThan(20);
    expect(count('en')).toBeGreaterThan(20);
    const statuses = new Set(items.map((i) => i.status));
    expect([...statuses].sort()).toEqual([
      'approved',
      'archived',
      'draft',
      'in_review',
      'published',
    ]);
  });

  it('writes Arabic in Arabic script and English in Latin script, with unique titles', () => {
    const latin = /[A-Za-z]/;
    const arabic = /[\u0600-\u06ff]/;
    for (const item of items) {
      const { ar, en } = item.translations;
      if (ar) {
        for (const text of [ar.title, ar.summary, ar.body]) {
          expect(text).not.toMatch(latin);
          expect(text).toMatch(arabic);
          expect(text).not.toMatch(/\{[swpSP]\}/);
        }
      }
      if (en) {
        for (const text of [en.title, en.summary, en.body]) {
          expect(text).not.toMatch(arabic);
          expect(text).not.toMatch(/lorem|ipsum|\{/i);
        }
        expect(en.body.split('\n\n').length).toBeGreaterThanOrEqual(3);
      }
    }
    for (const locale of ['ar', 'en'] as const) {
      const titles = items.flatMap((i) => i.translations[locale]?.title ?? []);
      expect(new Set(titles).size).toBe(titles.length);
      expect(new Set(titles.map((t) => slugify(t))).size).toBe(titles.length);
    }
  });
});

describe.each(backends)('seed (%s)', (backend) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await openDatabase(backend);
  });
  afterAll(() => database?.close());

  const run = () => (database.url ? seedDatabase(database.url) : seed(database.db));

  /** Row counts and a digest of every seeded row, to prove a second run changes nothing. */
  const fingerprint = async () =>
    (
      await database.query<{ table: string; rows: string; digest: string }>(
        `select 'content' as table, count(*)::text as rows,
                md5(string_agg(t::text, '|' order by t.id)) as digest from content t
         union all select 'content_translations', count(*)::text,
                md5(string_agg(t::text, '|' order by t.content_id, t.locale)) from content_translations t
         union all select 'content_versions', count(*)::text,
                md5(string_agg(t::text, '|' order by t.content_id, t.version)) from content_versions t
         union all select 'users', count(*)::text, md5(string_agg(t::text, '|' order by t.id)) from users t
         union all select 'categories', count(*)::text, md5(string_agg(t::text, '|' order by t.id)) from categories t
         union all select 'synonyms', count(*)::text, md5(string_agg(t::text, '|' order by t.id)) from synonyms t
         union all select 'flags', count(*)::text, md5(string_agg(t::text, '|' order by t.id)) from flags t
         union all select 'flag_sets', count(*)::text, md5(string_agg(t::text, '|' order by t.org_id)) from flag_sets t
         union all select 'experiments', count(*)::text, md5(string_agg(t::text, '|' order by t.id)) from experiments t
         union all select 'experiment_exposures', count(*)::text, md5(string_agg(t.subject_id, '|' order by t.subject_id)) from experiment_exposures t
         union all select 'events', count(*)::text,
                md5(string_agg(t.id, '|' order by t.id)) from events t
         union all select 'memberships', count(*)::text,
                md5(string_agg(t::text, '|' order by t.user_id)) from memberships t`,
      )
    ).map((r) => ({ ...r }));

  it('loads the expected rows, and a second run changes nothing', { timeout: 60_000 }, async () => {
    const first = await run();
    expect(first).toEqual(EXPECTED);
    // Sample engagement of every kind, over published items only (the result clicks are the
    // sample search experiment's).
    expect(first.events).toBeGreaterThan(3_000);
    const kinds = await database.query<{ type: string; unpublished: string }>(
      `select e.type, count(*) filter (where c.status <> 'published')::text as unpublished
       from events e join content c on c.org_id = e.org_id and c.id = e.content_id
       where e.data->>'sample' = 'true' group by e.type order by e.type`,
    );
    expect(kinds.map((k) => k.type)).toEqual([
      'content.clicked',
      'content.dwell',
      'content.liked',
      'content.shared',
      'content.viewed',
      'search.result_clicked',
    ]);
    expect(kinds.every((k) => k.unpublished === '0')).toBe(true);
    const [set] = await database.query<{ version: string }>('select version::text from flag_sets');
    expect(set?.version).toBe('1');
    const before = await fingerprint();
    expect(await run()).toEqual(NOTHING);
    expect(await fingerprint()).toEqual(before);
  });

  it('adds the sample upstream source when given the secrets key: sealed, mapped, once', async () => {
    const secretsKey = generateSecretsKey('seed');
    const again = (options: { secretsKey: string }) =>
      database.url ? seedDatabase(database.url, options) : seed(database.db, options);
    expect(await again({ secretsKey })).toEqual({ ...NOTHING, webhook_sources: 1 });
    expect(await again({ secretsKey })).toEqual(NOTHING);
    const [source] = await database.query<{
      id: string;
      kind: string;
      secret: string;
      config: { mapping: unknown };
    }>(
      `select s.id, s.kind::text, s.secret_ciphertext as secret, s.config from webhook_sources s
       join organizations o on o.id = s.org_id where o.slug = 'sift-demo' and s.name = $1`,
      [SAMPLE_SOURCE.name],
    );
    expect(source?.kind).toBe('standard');
    expect(source?.secret).not.toContain('whsec_');
    const opened = await openSecret(
      { current: secretsKey },
      source!.secret,
      `webhook_sources:${source!.id}`,
    );
    expect(opened.plaintext).toBe(SAMPLE_SOURCE.secret);
    expect(Mapping.safeParse(source?.config.mapping).success).toBe(true);
    // A new key (a new .dev.vars over kept data): the sample secret is sealed again with it.
    const newKey = generateSecretsKey('seed-2');
    expect(await again({ secretsKey: newKey })).toEqual(NOTHING);
    const [resealed] = await database.query<{ secret: string }>(
      'select secret_ciphertext as secret from webhook_sources where id = $1',
      [source!.id],
    );
    expect(
      (await openSecret({ current: newKey }, resealed!.secret, `webhook_sources:${source!.id}`))
        .plaintext,
    ).toBe(SAMPLE_SOURCE.secret);
  });

  it('adds the sample outbound endpoint when given the receiver URL, and points it there again', async () => {
    const secretsKey = generateSecretsKey('seed-endpoint');
    const again = (options: { secretsKey: string; sampleReceiverUrl?: string }) =>
      database.url ? seedDatabase(database.url, options) : seed(database.db, options);
    const first = 'http://127.0.0.1:18788/sample-receiver';
    expect(await again({ secretsKey, sampleReceiverUrl: first })).toMatchObject({
      webhook_endpoints: 1,
    });
    const moved = 'http://127.0.0.1:28788/sample-receiver';
    expect(await again({ secretsKey, sampleReceiverUrl: moved })).toMatchObject({
      webhook_endpoints: 0,
    });
    const endpoints = await database.query<{ id: string; url: string; secret: string }>(
      `select e.id, e.url, e.secret_ciphertext as secret from webhook_subscriptions e
       join organizations o on o.id = e.org_id where o.slug = 'sift-demo' and e.description = $1`,
      [SAMPLE_ENDPOINT.description],
    );
    expect(endpoints.map((e) => e.url)).toEqual([moved]);
    const opened = await openSecret(
      { current: secretsKey },
      endpoints[0]!.secret,
      `webhook_endpoints:${endpoints[0]!.id}`,
    );
    expect(opened.plaintext).toBe(SAMPLE_ENDPOINT.secret);
  });

  it('gives every role a member and the platform a super admin', async () => {
    const roles = await database.query<{ role: string; n: string }>(
      `select role::text, count(*)::text as n from memberships m join organizations o on o.id = m.org_id
       where o.slug = 'sift-demo' group by 1 order by 1`,
    );
    expect(roles.map((r) => r.role)).toEqual(
      ['owner', 'admin', 'editor', 'author', 'viewer'].sort(),
    );
    const [admins] = await database.query<{ n: string }>(
      'select count(*)::text as n from users where is_super_admin',
    );
    expect(admins?.n).toBe('1');
  });

  it('stores slugs made from titles, a first version per item, and plausible times', async () => {
    const translations = await database.query<{ title: string; slug: string }>(
      'select title, slug from content_translations',
    );
    for (const t of translations) expect(t.slug).toBe(slugify(t.title));
    const [check] = await database.query<Record<string, string>>(
      `select
         (select count(*) from content c where not exists (
            select 1 from content_versions v where v.content_id = c.id and v.version = 1
              and v.snapshot->>'id' = c.id and v.status = c.status))::text as missing_versions,
         (select count(*) from content where updated_at < created_at or created_at > now())::text as bad_times,
         (select count(*) from content where status in ('published', 'archived') and published_at is null)::text as unpublished,
         (select count(*) from content where status = 'approved' and publish_at > now())::text as scheduled,
         (select count(*) from content where category_id is null)::text as uncategorised,
         (select count(*) from content c where not exists (
            select 1 from content_translations t where t.content_id = c.id and t.locale = c.default_locale))::text as no_default_text`,
    );
    expect(check).toMatchObject({
      missing_versions: '0',
      bad_times: '0',
      unpublished: '0',
      uncategorised: '0',
      no_default_text: '0',
    });
    expect(Number(check?.scheduled)).toBeGreaterThan(0);
  });
});

describe('seed CLI on the local cloud PGlite (wire protocol)', () => {
  let server: PgliteServer;
  let url: string;
  beforeAll(async () => {
    server = await startPgliteServer({ port: 0, password: 'postgres' });
    url = `postgresql://postgres:postgres@127.0.0.1:${server.port}/postgres`;
    await migrateDatabase(url);
  });
  afterAll(() => server?.close());

  it('seeds once, then reports nothing to insert', { timeout: 60_000 }, async () => {
    const run = () =>
      promisify(execFile)(process.execPath, ['tools/db/seed.ts'], {
        env: { ...process.env, DATABASE_URL: url },
      });
    expect((await run()).stdout).toContain(`inserted 1 organizations, ${EXPECTED.users} users`);
    expect((await run()).stdout).toContain('sample data already present, nothing inserted');
  });
});
