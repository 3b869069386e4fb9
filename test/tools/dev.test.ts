import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { neon } from '@neondatabase/serverless';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateFlag } from '../../shared/flags/evaluate.ts';
import { signDelivery } from '../../shared/webhook-sources/signature.ts';
import { SAMPLE_FLAGS } from '../../tools/db/sample-data/flags.ts';
import { SAMPLE_PASSWORD } from '../../tools/db/sample-data/people.ts';
import { SAMPLE_ENDPOINT, SAMPLE_SOURCE } from '../../tools/db/sample-data/sources.ts';
import { type DevProcess, freePort, startDevProcess } from '../../tools/dev-process.ts';
import { useLocalNeon } from '../local-cloud/neon/backends.ts';

useLocalNeon();

const _ROOT = join(import.meta.dirname, '../..');

/**
 * `npm run dev` end to end: one command, and Sift answers on localhost with the sample data
 * loaded. Run against the embedded backends, as on a machine with no database or Redis server
 * (a shell DATABASE_URL must not leak into the Worker either).
 */
describe('npm run dev', () => {
  let child: ChildProcess;
  let dev: DevProcess;
  let dir: string;
  let port: number;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sift-dev-'));
    port = await freePort();
    // With DATABASE_URL / REDIS_URL set (CI) the local cloud fronts those servers, and the
    // Worker must still get the proxy's settings, not the shell's DATABASE_URL.
    dev = await startDevProcess({ dir, port });
    child = dev.child;
  }, 120_000);

  const base = () => `http://127.0.0.1:${port}`;

  async function signIn(): Promise<Record<string, string>> {
    const login = await fetch(`${base()}/v1/auth/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        email: 'huda.almansouri@sift-demo.example',
        password: SAMPLE_PASSWORD,
      }),
    });
    const { access_token } = (await login.json()) as { access_token: string };
    return { Authorization: `Bearer ${access_token}` };
  }

  /** Retries `check` until it passes or 30 s have gone. */
  async function poll(check: () => Promise<void>): Promise<void> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        return await check();
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  }

  /** Waits for a write's operation to reach Postgres. */
  async function applied(auth: Record<string, string>, accepted: { operation: { url: string } }) {
    await poll(async () => {
      const operation = (await (
        await fetch(`${base()}${accepted.operation.url}`, { headers: auth })
      ).json()) as { status: string };
      expect(operation.status).toBe('applied');
    });
  }

  afterAll(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  it('serves the API on the printed URL, ready, with its dependencies up', async () => {
    expect(dev.output()).toContain(`Sift is running at http://127.0.0.1:${port}`);
    const health = await fetch(`http://127.0.0.1:${port}/health`);
    expect(health.status).toBe(200);
    const ready = await fetch(`http://127.0.0.1:${port}/ready`);
    expect(ready.status).toBe(200);
    const docs = await fetch(`http://127.0.0.1:${port}/docs/assets/scalar.js`);
    expect(docs.status).toBe(200);
  });

  it('has migrated the database and loaded the bilingual sample data', async () => {
    const databaseUrl = /^ {2}DATABASE_URL=(\S+)$/m.exec(dev.output())?.[1];
    expect(databaseUrl).toBeDefined();
    const [row] = await neon(databaseUrl!).query(
      `select count(distinct c.id)::int as items,
              count(*) filter (where t.locale = 'ar')::int as arabic,
              count(*) filter (where t.locale = 'en')::int as english
         from content c
         join organizations o on o.id = c.org_id and o.slug = 'sift-demo'
         join content_translations t on t.content_id = c.id`,
    );
    expect(row?.items).toBeGreaterThanOrEqual(300);
    expect(row?.arabic).toBeGreaterThan(100);
    expect(row?.english).toBeGreaterThan(100);
  });

  it('signs in a sample user with the development password, with a generated signing key', async () => {
    const login = await fetch(`http://127.0.0.1:${port}/v1/auth/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        email: 'huda.almansouri@sift-demo.example',
        password: SAMPLE_PASSWORD,
      }),
    });
    expect(login.status).toBe(200);
    const tokens = (await login.json()) as { access_token: string; organization: { slug: string } };
    expect(tokens.organization.slug).toBe('sift-demo');
    const whoami = await fetch(`http://127.0.0.1:${port}/v1/whoami`, {
      headers: { Authorization: `Bearer ${tokens.access_token}` },
    });
    expect(await whoami.json()).toMatchObject({ kind: 'user', role: 'owner' });
    const jwks = (await (await fetch(`http://127.0.0.1:${port}/.well-known/jwks.json`)).json()) as {
      keys: Array<{ kid: string }>;
    };
    expect(jwks.keys.map((k) => k.kid)).toEqual(['dev']);
  });

  it('has made the sample data searchable before saying it is ready, in both languages', async () => {
    expect(dev.output()).toMatch(/dev: sample data indexed for search \(\d+ published items/);
    const auth = await signIn();
    for (const [q, locale] of [
      ['climate', 'en'],
      ['المناخ', 'ar'],
    ]) {
      const query = new URLSearchParams({ q: q!, locale: locale!, mode: 'keyword' });
      const response = await fetch(`${base()}/v1/search?${query}`, { headers: auth });
      expect(response.status).toBe(200);
      const body = (await response.json()) as { total: number; hits: { status?: string }[] };
      expect(body.total, `${locale}: ${q}`).toBeGreaterThan(0);
    }
  });

  it('has sample engagement: published items have readers, and neighbours their readers also read', async () => {
    const auth = await signIn();
    // The oldest published items are the sample's (other tests, and earlier runs on a kept
    // database, publish new ones, which have no sample readers).
    const listed = (await (
      await fetch(`${base()}/v1/content?status=published&sort=created_at&order=asc&limit=20`, {
        headers: auth,
      })
    ).json()) as { items: { id: string }[] };
    type Similar = {
      readers: number;
      items: { explain: { content: number; co_engagement: number } }[];
      degraded_reasons: string[];
    };
    const answers: Similar[] = [];
    for (const item of listed.items) {
      const response = await fetch(`${base()}/v1/content/${item.id}/similar?explain=true`, {
        headers: auth,
      });
      expect(response.status).toBe(200);
      answers.push((await response.json()) as Similar);
    }
    expect(answers.every((a) => a.degraded_reasons.length === 0)).toBe(true);
    const read = answers.filter((a) => a.readers > 0);
    expect(read.length).toBeGreaterThan(listed.items.length / 2);
    expect(read.some((a) => a.items.some((i) => i.explain.co_engagement > 0))).toBe(true);
    expect(answers.some((a) => a.items.some((i) => i.explain.content > 0))).toBe(true);
  });

  it('recommends for a sample reader from their history, and trending to a new one', async () => {
    const auth = await signIn();
    type Answer = {
      strategy: string;
      history: number;
      co_readers: number;
      items: { explain: Record<string, number> }[];
      degraded_reasons: string[];
    };
    const ask = async (query: string) => {
      const response = await fetch(`${base()}/v1/recommendations?explain=true&${query}`, {
        headers: auth,
      });
      expect(response.status).toBe(200);
      return (await response.json()) as Answer;
    };
    const reader = await ask('anonymous_id=sample-reader-0');
    expect(reader).toMatchObject({ strategy: 'personalized', degraded_reasons: [] });
    expect(reader.history).toBeGreaterThan(0);
    expect(reader.co_readers).toBeGreaterThan(0);
    expect(reader.items).toHaveLength(10);
    expect(reader.items.some((i) => (i.explain.collaborative ?? 0) > 0)).toBe(true);
    const newcomer = await ask('anonymous_id=dev-newcomer&locale=ar');
    expect(newcomer.strategy).toBe('trending');
    expect(newcomer.items.length).toBeGreaterThanOrEqual(3);
  });

  it('has a topic trending at once: the sample story, with its keywords and series', async () => {
    // On a fresh database the story is emerging or rising; on kept data (the seed adds a burst
    // only when the last is over six hours old) it may already be peaking or declining.
    const auth = await signIn();
    const response = await fetch(`${base()}/v1/trends`, { headers: auth });
    expect(response.status).toBe(200);
    const trends = (await response.json()) as {
      items: {
        id: string;
        size: number;
        lifecycle: string;
        locales: string[];
        keywords: { ar: string[]; en: string[] };
      }[];
    };
    // The sample story (its items written in both languages): read by forty readers each in the
    // six hours before the seed.
    const top = trends.items.find(
      (t) =>
        t.size >= 3 &&
        t.locales.includes('ar') &&
        t.locales.includes('en') &&
        ['emerging', 'rising', 'peaking', 'declining'].includes(t.lifecycle),
    );
    expect(top, JSON.stringify(trends.items)).toBeDefined();
    expect(top!.keywords.en.length).toBeGreaterThan(0);
    expect(top!.keywords.ar.length).toBeGreaterThan(0);
    const one = (await (
      await fetch(`${base()}/v1/trends/${top!.id}`, { headers: auth })
    ).json()) as {
      series: unknown[];
      items: unknown[];
    };
    expect(one.series.length).toBeGreaterThan(0);
    expect(one.items.length).toBeGreaterThanOrEqual(3);
  });

  it('has sample engagement rising: a story’s items trend', async () => {
    const auth = await signIn();
    const response = await fetch(`${base()}/v1/trending?explain=true`, { headers: auth });
    expect(response.status).toBe(200);
    const trending = (await response.json()) as {
      items: { explain: { current: number; expected: number; readers: number } }[];
    };
    expect(trending.items.length).toBeGreaterThanOrEqual(3);
    for (const item of trending.items.slice(0, 3)) {
      expect(item.explain.readers).toBeGreaterThanOrEqual(40);
      expect(item.explain.current).toBeGreaterThan(item.explain.expected * 5);
    }
  });

  it('has processed the bilingual sample documents before saying it is ready: text, chunks, enrichment', async () => {
    // Uploaded now, or kept from an earlier run on the same database (its own file store is new).
    expect(dev.output()).toMatch(/dev: sample documents processed \(\d uploaded now; 4 ready;/);
    const auth = await signIn();
    const response = await fetch(`${base()}/v1/documents?limit=50`, { headers: auth });
    expect(response.status).toBe(200);
    type Doc = {
      id: string;
      title: string;
      status: string;
      language: string | null;
      page_count: number | null;
      chunk_count: number | null;
      enrichment: {
        action_items: { text: string; owner: string | null; due_date: string | null }[];
        risks: { severity: string }[];
      } | null;
    };
    const { items } = (await response.json()) as { items: Doc[] };
    expect(items.map((d) => d.status)).toEqual(['ready', 'ready', 'ready', 'ready']);
    expect(new Set(items.map((d) => d.language))).toEqual(new Set(['ar', 'en']));
    for (const doc of items) expect(doc.chunk_count).toBeGreaterThan(0);

    const minutes = items.find((d) => d.title.startsWith('Editorial Planning Meeting'))!;
    expect(minutes.page_count).toBe(3);
    expect(minutes.enrichment?.action_items).toContainEqual(
      expect.objectContaining({ owner: 'Emma Clarke', due_date: '2027-01-15' }),
    );
    expect(minutes.enrichment?.risks.map((r) => r.severity)).toContain('high');
    const text = await fetch(`${base()}/v1/documents/${minutes.id}/text`, { headers: auth });
    expect(await text.text()).toContain('Emma Clarke will draft the first election explainer');

    const incident = items.find((d) => d.title.startsWith('تقرير حادثة'))!;
    expect(incident.enrichment?.action_items).toContainEqual(
      expect.objectContaining({ due_date: '2026-12-20' }),
    );
  });

  it('finds sample document passages in search and answers questions from them, with citations', async () => {
    const auth = await signIn();
    const query = new URLSearchParams({ q: 'translation budget', type: 'document' });
    const search = await fetch(`${base()}/v1/search?${query}`, { headers: auth });
    expect(search.status).toBe(200);
    const { hits } = (await search.json()) as {
      hits: { type: string; title: string; page_start: number | null }[];
    };
    expect(hits[0]).toMatchObject({
      type: 'document',
      title: 'Editorial Planning Meeting: Minutes, 3 December 2026',
    });
    expect(hits[0]?.page_start).toBeGreaterThanOrEqual(1);

    const ask = async (question: string) => {
      const response = await fetch(`${base()}/v1/ask`, {
        method: 'POST',
        headers: { ...auth, 'Content-Type': 'application/json' },
        body: JSON.stringify({ question }),
      });
      expect(response.status).toBe(200);
      return (await response.json()) as {
        status: string;
        answer: string | null;
        citations: { title: string }[];
      };
    };
    const english = await ask('When will Emma Clarke draft the first election explainer?');
    expect(english.status).toBe('answered');
    expect(english.answer).toContain('15 January 2027');
    expect(english.citations[0]?.title).toMatch(/^Editorial Planning Meeting/);
    const arabic = await ask('متى يجب تفعيل التجديد التلقائي للشهادات؟');
    expect(arabic.status).toBe('answered');
    expect(arabic.answer).toContain('20 ديسمبر');
    expect(arabic.citations[0]?.title).toMatch(/^تقرير حادثة/);
  });

  it('has sample flags that evaluate through POST /v1/flags/evaluate and OFREP as the evaluator computes them', async () => {
    const auth = { ...(await signIn()), 'Content-Type': 'application/json' };
    const keys = SAMPLE_FLAGS.map((f) => f.key);
    const post = (path: string, body: unknown) =>
      fetch(`${base()}${path}`, { method: 'POST', headers: auth, body: JSON.stringify(body) });
    const contexts: Record<string, string>[] = [
      { targetingKey: 'reader-1', plan: 'pro', platform: 'ios', app_version: '2.4.1' },
      { targetingKey: 'reader-2', plan: 'enterprise', platform: 'android', app_version: '2.3.9' },
      { targetingKey: 'qa-robot', email: 'qa@sift-demo.example' },
      { targetingKey: 'editor-1', email: 'editor-1@sift-demo.example' },
      ...Array.from({ length: 20 }, (_, i) => ({ targetingKey: `user-${i}`, country: 'AE' })),
    ];
    const served = new Map<string, Set<unknown>>(keys.map((k) => [k, new Set()]));
    for (const context of contexts) {
      const response = await post('/v1/flags/evaluate', { context, flags: keys });
      expect(response.status).toBe(200);
      const { flags } = (await response.json()) as { flags: { key: string; value: unknown }[] };
      expect(flags).toEqual(SAMPLE_FLAGS.map((flag) => evaluateFlag(flag, context)));
      for (const f of flags) served.get(f.key)!.add(f.value);
    }
    // What each sample shows: the kill switch wins; the deny-list beats the team's regex; the
    // rollout and the split serve more than one value; the semver rule and the plan decide.
    const one = async (key: string, context: Record<string, string>) => {
      const response = await post(`/ofrep/v1/evaluate/flags/${key}`, { context });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    expect(await one('ai-answers', contexts[0]!)).toMatchObject({
      status: 200,
      body: { value: false, reason: 'DISABLED' },
    });
    expect(await one('new-editor', contexts[2]!)).toMatchObject({
      status: 200,
      body: { value: false, reason: 'TARGETING_MATCH', metadata: { rule: -1 } },
    });
    expect(await one('new-editor', contexts[3]!)).toMatchObject({
      status: 200,
      body: { value: true, reason: 'TARGETING_MATCH', metadata: { rule: 0 } },
    });
    expect(await one('offline-reading', contexts[0]!)).toMatchObject({
      status: 200,
      body: { value: true, variant: 'on', reason: 'TARGETING_MATCH' },
    });
    expect(await one('offline-reading', contexts[1]!)).toMatchObject({
      status: 200,
      body: { value: false, reason: 'DEFAULT' },
    });
    expect(await one('upload-limit-mb', contexts[1]!)).toMatchObject({
      status: 200,
      body: { value: 200, variant: 'large' },
    });
    expect(served.get('new-editor')).toEqual(new Set([true, false]));
    expect(served.get('homepage-layout')).toEqual(new Set(['classic', 'cards', 'magazine']));
    // OFREP's bulk evaluation answers every live flag of the sample organisation, the same way.
    const bulk = await post('/ofrep/v1/evaluate/flags', { context: contexts[4] });
    expect(bulk.status).toBe(200);
    const { flags } = (await bulk.json()) as { flags: { key: string; value: unknown }[] };
    expect(flags.map((f) => [f.key, f.value])).toEqual(
      [...SAMPLE_FLAGS]
        .sort((a, b) => a.key.localeCompare(b.key))
        .map((flag) => [flag.key, evaluateFlag(flag, contexts[4]!).value]),
    );
  });

  it('has sample experiments: a stopped one whose results name a winner, a running one that assigns readers', async () => {
    const auth = await signIn();
    type Experiment = { id: string; key: string; status: string };
    const list = (await (await fetch(`${base()}/v1/experiments`, { headers: auth })).json()) as {
      items: Experiment[];
    };
    const byKey = new Map(list.items.map((e) => [e.key, e]));
    expect(byKey.get('fresher-ranking')?.status).toBe('stopped');
    expect(byKey.get('fresher-cold-start')?.status).toBe('running');
    const results = (await (
      await fetch(`${base()}/v1/experiments/${byKey.get('fresher-ranking')!.id}/results`, {
        headers: auth,
      })
    ).json()) as {
      decision: string;
      winner: string | null;
      control: { exposures: number; design_effect: number };
      variants: { key: string; exposures: number }[];
    };
    expect(results).toMatchObject({ decision: 'variant_wins', winner: 'fresher' });
    expect(results.control.exposures).toBeGreaterThan(1_000);
    expect(results.control.design_effect).toBeGreaterThan(1);
    // The running one: a new reader's recommendations say which variant made them, and the
    // list is recorded as an exposure.
    const recommended = (await (
      await fetch(`${base()}/v1/recommendations?anonymous_id=dev-experiment-reader`, {
        headers: auth,
      })
    ).json()) as { recomm_id: string; experiment?: { key: string; variant: string } };
    expect(recommended.experiment?.key).toBe('fresher-cold-start');
    await poll(async () => {
      const live = (await (
        await fetch(`${base()}/v1/experiments/${byKey.get('fresher-cold-start')!.id}/results`, {
          headers: auth,
        })
      ).json()) as { control: { exposures: number }; variants: { exposures: number }[] };
      expect(live.control.exposures + live.variants[0]!.exposures).toBeGreaterThan(0);
    });
  });

  it("prints wrangler's table of bindings once, and when each cron trigger fires next", () => {
    const output = dev.output();
    expect(output.split('Your Worker has access to the following bindings')).toHaveLength(2);
    expect(output).not.toContain('Scheduled Workers are not automatically triggered');
    expect(output).toMatch(
      /dev: cron triggers of wrangler\.toml run on schedule \(UTC\): "\* \* \* \* \*" next at \d{4}-\d\d-\d\dT\d\d:\d\d:00\.000Z/,
    );
  });

  it('publishes a scheduled item when its cron trigger fires under wrangler dev', async () => {
    const auth = { ...(await signIn()), 'Content-Type': 'application/json' };
    const created = await fetch(`${base()}/v1/content`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({
        translations: { en: { title: `Scheduled under dev ${Date.now()}`, body: 'Soon.' } },
      }),
    });
    expect(created.status).toBe(202);
    const { id } = ((await created.json()) as { content: { id: string } }).content;
    let publishAt = 0;
    for (const action of ['submit', 'approve', 'schedule']) {
      // Taken just before the request: on a slow machine submit and approve alone take seconds.
      if (action === 'schedule') publishAt = Date.now() + 3_000;
      const response = await fetch(`${base()}/v1/content/${id}/transitions`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({
          action,
          ...(action === 'schedule' ? { publish_at: new Date(publishAt).toISOString() } : {}),
        }),
      });
      expect(response.status, `${action}: ${await response.clone().text()}`).toBe(202);
      await applied(auth, (await response.json()) as { operation: { url: string } });
    }
    while (Date.now() <= publishAt) await new Promise((resolve) => setTimeout(resolve, 100));
    // What the runner does at the minute (tools/dev-cron.ts, unit-tested with a moved clock).
    const cron = await fetch(
      `${base()}/cdn-cgi/local/scheduled?cron=${encodeURIComponent('* * * * *')}`,
    );
    expect(cron.status).toBe(200);
    await poll(async () => {
      const item = (await (
        await fetch(`${base()}/v1/content/${id}`, { headers: auth })
      ).json()) as {
        status: string;
        version: number;
      };
      expect(item).toMatchObject({ status: 'published', version: 5 });
    });
  });

  it('has a sample upstream source whose signed deliveries become published content', async () => {
    const auth = await signIn();
    const list = (await (
      await fetch(`${base()}/v1/webhooks/sources`, { headers: auth })
    ).json()) as { items: { id: string; name: string }[] };
    const source = list.items.find((s) => s.name === SAMPLE_SOURCE.name);
    expect(source, JSON.stringify(list)).toBeDefined();
    expect(dev.output()).toContain(SAMPLE_SOURCE.secret);
    const external = `dev-${Date.now()}`;
    const body = JSON.stringify({
      type: 'post.published',
      object: {
        id: external,
        title: `Pushed from upstream ${external}`,
        body: 'Hello.',
        lang: 'en',
      },
    });
    const headers = await signDelivery('standard', SAMPLE_SOURCE.secret, body, {
      id: `msg_${external}`,
      timestamp: Math.floor(Date.now() / 1000),
    });
    const pushed = await fetch(`${base()}/webhooks/inbound/${source!.id}`, {
      method: 'POST',
      headers: { ...headers, 'Content-Type': 'application/json' },
      body,
    });
    expect(pushed.status, await pushed.clone().text()).toBe(202);
    const { content_id } = (await pushed.json()) as { content_id: string };
    await poll(async () => {
      const item = (await (
        await fetch(`${base()}/v1/content/${content_id}`, { headers: auth })
      ).json()) as { status: string; created_by: string };
      expect(item).toMatchObject({ status: 'published', created_by: source!.id });
    });
    // The change goes out too: the sample endpoint's receiver verifies it and says so.
    const endpoints = (await (
      await fetch(`${base()}/v1/webhooks/endpoints`, { headers: auth })
    ).json()) as { items: { id: string; description: string | null }[] };
    const sample = endpoints.items.find((e) => e.description === SAMPLE_ENDPOINT.description);
    expect(sample, JSON.stringify(endpoints)).toBeDefined();
    await poll(async () => {
      const deliveries = (await (
        await fetch(`${base()}/v1/webhooks/endpoints/${sample!.id}/deliveries`, { headers: auth })
      ).json()) as { items: { event_id: string; status: string }[] };
      expect(deliveries.items).toContainEqual(
        expect.objectContaining({ event_id: `${content_id}.v1`, status: 'delivered' }),
      );
    });
    expect(dev.output()).toMatch(
      new RegExp(`webhook content\\.created ${content_id}\\.v1 received .*signature verified`),
    );
  });

  it('signs up a new account (a transaction over the WebSocket proxy, from wrangler dev)', async () => {
    const response = await fetch(`http://127.0.0.1:${port}/v1/auth/signup`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        email: `founder-${Date.now()}@example.com`,
        password: 'a long enough passphrase',
        name: 'Founder',
        organization: { name: 'Acme Inc' },
      }),
    });
    expect(response.status).toBe(201);
    expect(await response.json()).toMatchObject({ organization: { role: 'owner' } });
  });

  it('stops everything on Ctrl-C', async () => {
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    await expect(
      fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(2_000) }),
    ).rejects.toThrow();
  });
});
