import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSnapshots } from '../../../../shared/content/store.ts';
import {
  experimentExposures,
  experiments,
  organizations,
} from '../../../../shared/db/schema/index.ts';
import { assign } from '../../../../shared/experiments/assign.ts';
import { type Exposure, persistExposures } from '../../../../shared/experiments/exposure.ts';
import { newId } from '../../../../shared/ids.ts';
import {
  type EngagementEvent,
  persistEngagementEvents,
} from '../../../../shared/search/analytics.ts';
import { indexContent } from '../../../../shared/search/index-entry.ts';
import { bumpIndexVersions } from '../../../../shared/search/index-version.ts';
import { bearer, createMember, createTenant, tokenFor } from '../../auth.ts';
import {
  call,
  eventually,
  expectProblem,
  testDb,
  testServices,
  untilQuiet,
} from '../../helpers.ts';
import { insertContent } from '../content/fixtures.ts';
import { auditedEventually, json } from '../keys/fixtures.ts';

afterAll(() => untilQuiet(), 40_000);

type Experiment = {
  id: string;
  key: string;
  status: string;
  variants: { key: string; weight: number; settings: Record<string, unknown> }[];
  traffic_percent: number;
  salt: string;
  version: number;
  started_at: string | null;
  stopped_at: string | null;
  promoted_variant: string | null;
};

const searchExperiment = (key: string, over: Record<string, unknown> = {}) => ({
  key,
  surface: 'search',
  variants: [
    { key: 'control', weight: 50 },
    { key: 'fresher', weight: 50, settings: { freshness_half_life_days: 7 } },
  ],
  primary_metric: 'click_through_rate',
  guardrails: [{ metric: 'error_rate' }, { metric: 'latency_p95', max_increase_percent: 50 }],
  ...over,
});

let orgId: string;
let contentId: string;

/**
 * Searches served under an experiment's variants and their result clicks, as the EVENTS consumer
 * would write them: per arm, `readers` readers (`<variant>-<i>`) each searching `searches` times,
 * every search of reader i clicked when `clicks(i)`.
 */
function traffic(
  experimentId: string,
  arms: {
    variant: string;
    readers: number;
    searches: number;
    clicks: (reader: number) => boolean;
  }[],
) {
  const at = new Date().toISOString();
  const exposures: Exposure[] = [];
  const clicks: EngagementEvent[] = [];
  for (const arm of arms) {
    for (let reader = 0; reader < arm.readers; reader++) {
      for (let n = 0; n < arm.searches; n++) {
        const queryId = newId('query');
        exposures.push({
          experiment_id: experimentId,
          org_id: orgId,
          subject_id: queryId,
          variant: arm.variant,
          targeting_key: `${arm.variant}-${reader}`,
          outcome: 'ok',
          latency_ms: 20,
          result_count: 3,
          occurred_at: at,
        });
        if (arm.clicks(reader)) {
          clicks.push({
            id: newId('event'),
            occurred_at: at,
            org_id: orgId,
            type: 'search.result_clicked',
            user_id: null,
            content_id: contentId,
            query_id: queryId,
            data: {},
          });
        }
      }
    }
  }
  return { exposures, clicks };
}

describe('/v1/experiments', () => {
  let ownerId: string;
  let auth: Record<string, string>;

  const create = async (body: unknown) => {
    const response = await call('/v1/experiments', json('POST', body, auth));
    expect(response.status, await response.clone().text()).toBe(201);
    return (await response.json()) as Experiment;
  };
  const act = async (id: string, action: string, headers: Record<string, string> = {}) =>
    call(`/v1/experiments/${id}/${action}`, { method: 'POST', headers: { ...auth, ...headers } });

  beforeAll(async () => {
    const tenant = await createTenant('experiments');
    orgId = tenant.orgId;
    ownerId = tenant.owner.userId;
    auth = bearer((await tokenFor(tenant.owner)).token);
    contentId = (
      await insertContent(orgId, {
        status: 'published',
        publishedAt: new Date('2026-11-01T00:00:00Z'),
        translations: { en: { title: 'Harbour lanterns', body: 'Lanterns along the harbour.' } },
      })
    ).id;
    const services = testServices();
    for (const snapshot of (await loadSnapshots(testDb(), orgId, [contentId])).values()) {
      await indexContent(services, snapshot);
    }
    await bumpIndexVersions(services, [orgId]);
  });

  it('creates a draft with a salt, an ETag and an audit record', async () => {
    const response = await call(
      '/v1/experiments',
      json('POST', searchExperiment('draft-one'), auth),
    );
    expect(response.status).toBe(201);
    const experiment = (await response.json()) as Experiment;
    expect(experiment).toMatchObject({
      key: 'draft-one',
      status: 'draft',
      traffic_percent: 100,
      version: 1,
      started_at: null,
      variants: [
        { key: 'control', weight: 50, settings: {} },
        { key: 'fresher', weight: 50, settings: { freshness_half_life_days: 7 } },
      ],
    });
    expect(experiment.salt).toMatch(/^[0-9a-z]{16}$/);
    expect(response.headers.get('ETag')).toBe(`"${experiment.id}.1"`);
    expect(response.headers.get('Location')).toBe(`/v1/experiments/${experiment.id}`);
    const audited = await auditedEventually('experiment.create', experiment.id);
    expect(audited.data).toMatchObject({ before: null, after: { key: 'draft-one' } });
    const listed = await (await call('/v1/experiments?status=draft', { headers: auth })).json();
    expect((listed as { items: Experiment[] }).items.map((e) => e.id)).toContain(experiment.id);
  });

  it.each([
    [
      'weights not summing to 100',
      {
        variants: [
          { key: 'control', weight: 50 },
          { key: 'b', weight: 40, settings: { semantic_weight: 0.2 } },
        ],
      },
      'body.variants',
    ],
    [
      'a control that changes settings',
      {
        variants: [
          { key: 'control', weight: 50, settings: { semantic_weight: 0.2 } },
          { key: 'b', weight: 50, settings: { semantic_weight: 0.3 } },
        ],
      },
      'body.variants.0.settings',
    ],
    [
      'a variant that changes nothing',
      {
        variants: [
          { key: 'control', weight: 50 },
          { key: 'b', weight: 50 },
        ],
      },
      'body.variants.1.settings',
    ],
    [
      'an unknown search setting',
      {
        variants: [
          { key: 'control', weight: 50 },
          { key: 'b', weight: 50, settings: { turbo: true } },
        ],
      },
      'body.variants.1.settings',
    ],
    [
      'a search setting out of range',
      {
        variants: [
          { key: 'control', weight: 50 },
          { key: 'b', weight: 50, settings: { semantic_weight: 7 } },
        ],
      },
      'body.variants.1.settings.semantic_weight',
    ],
    [
      'two variants with one key',
      {
        variants: [
          { key: 'a', weight: 50 },
          { key: 'a', weight: 50, settings: { semantic_weight: 0.3 } },
        ],
      },
      'body.variants.1.key',
    ],
    [
      'a metric the surface has not',
      {
        surface: 'recommendations',
        primary_metric: 'zero_result_rate',
        variants: [
          { key: 'control', weight: 50 },
          { key: 'b', weight: 50, settings: { category_share: 0.5 } },
        ],
      },
      'body.primary_metric',
    ],
    ['one variant only', { variants: [{ key: 'control', weight: 100 }] }, 'body.variants'],
    ['a traffic share of 0', { traffic_percent: 0 }, 'body.traffic_percent'],
    [
      'a weight with three decimals',
      {
        variants: [
          { key: 'control', weight: 50.005 },
          { key: 'b', weight: 49.995, settings: { semantic_weight: 0.3 } },
        ],
      },
      'body.variants.0.weight',
    ],
    ['a key of emoji', { key: '🧪-test' }, 'body.key'],
    ['an unknown field', { turbo: true }, 'body.turbo'],
    [
      'a guardrail twice',
      { guardrails: [{ metric: 'error_rate' }, { metric: 'error_rate' }] },
      'body.guardrails.1.metric',
    ],
  ])('answers 400 naming the field for %s', async (_, over, path) => {
    const response = await call(
      '/v1/experiments',
      json('POST', searchExperiment(`bad-${crypto.randomUUID().slice(0, 8)}`, over), auth),
    );
    const problem = await expectProblem(response, 400);
    expect(problem.errors?.map((e) => e.path)).toContain(path);
    const [row] = await testDb()
      .select()
      .from(experiments)
      .where(
        and(
          eq(experiments.orgId, orgId),
          eq(experiments.key, String((over as { key?: string }).key ?? '')),
        ),
      );
    expect(row).toBeUndefined();
  });

  it("answers 422 for a category that is not the organisation's, and 409 for a key taken", async () => {
    const category = `cat_${'0'.repeat(26)}`;
    const response = await call(
      '/v1/experiments',
      json(
        'POST',
        searchExperiment('cats', {
          variants: [
            { key: 'control', weight: 50 },
            {
              key: 'b',
              weight: 50,
              settings: {
                category_weights: {
                  [category]: { relevance: 1, popularity: 0, freshness: 0, personal: 0 },
                },
              },
            },
          ],
        }),
        auth,
      ),
    );
    const problem = await expectProblem(response, 422);
    expect(problem.errors?.[0]?.path).toBe(`body.category_weights.${category}`);
    await create(searchExperiment('taken'));
    await expectProblem(
      await call('/v1/experiments', json('POST', searchExperiment('taken'), auth)),
      409,
    );
  });

  it('starts, pauses, resumes and stops; refuses the wrong status, a stale If-Match and a second running experiment', async () => {
    const first = await create(searchExperiment('lifecycle'));
    await expectProblem(await act(first.id, 'pause'), 409);
    await expectProblem(await act(first.id, 'start', { 'If-Match': `"${first.id}.9"` }), 412);
    const started = await act(first.id, 'start', { 'If-Match': `"${first.id}.1"` });
    expect(started.status).toBe(200);
    const startedBody = (await started.json()) as Experiment;
    expect(startedBody).toMatchObject({ status: 'running', version: 2 });
    const second = await create(searchExperiment('lifecycle-two'));
    const conflict = await expectProblem(await act(second.id, 'start'), 409);
    expect(conflict.experiment_id).toBe(first.id);
    expect((await (await act(first.id, 'pause')).json()) as Experiment).toMatchObject({
      status: 'paused',
    });
    // Paused still holds the surface.
    await expectProblem(await act(second.id, 'start'), 409);
    const resumed = (await (await act(first.id, 'start')).json()) as Experiment;
    // Resuming keeps the first start.
    expect(resumed.started_at).toBe(startedBody.started_at);
    const stopped = (await (await act(first.id, 'stop')).json()) as Experiment;
    expect(stopped).toMatchObject({ status: 'stopped' });
    expect(stopped.stopped_at).not.toBeNull();
    await expectProblem(await act(first.id, 'start'), 409);
    await expectProblem(
      await call(`/v1/experiments/${first.id}`, { method: 'DELETE', headers: auth }),
      409,
    );
    // The surface is free again; the second one can start, and a draft can be deleted.
    expect((await act(second.id, 'start')).status).toBe(200);
    await act(second.id, 'stop');
    const draft = await create(searchExperiment('deletable'));
    expect(
      (await call(`/v1/experiments/${draft.id}`, { method: 'DELETE', headers: auth })).status,
    ).toBe(204);
    await expectProblem(await call(`/v1/experiments/${draft.id}`, { headers: auth }), 404);
    await auditedEventually('experiment.stop', first.id);
  });

  it('assigns searches by the published bucketing, records exposures with the query id, and counts clicks in the results', async () => {
    const experiment = await create(searchExperiment('ranking-live'));
    expect((await act(experiment.id, 'start')).status).toBe(200);
    const keys = Array.from({ length: 12 }, (_, i) => `reader-${i}`);
    const served: { key: string; queryId: string; variant: string }[] = [];
    for (const key of keys) {
      const response = await call(`/v1/search?q=harbour+lanterns&targeting_key=${key}`, {
        headers: auth,
      });
      expect(response.status).toBe(200);
      const body = (await response.json()) as {
        query_id: string;
        total: number;
        experiment?: { key: string; variant: string };
      };
      const expected = assign(
        {
          id: experiment.id,
          key: experiment.key,
          variants: experiment.variants,
          trafficPercent: 100,
          salt: experiment.salt,
        },
        key,
      );
      expect(body.experiment).toEqual({ key: 'ranking-live', variant: expected!.variant });
      served.push({ key, queryId: body.query_id, variant: expected!.variant });
    }
    // Both arms got readers (12 keys at 50/50: all in one arm has odds of 1 in 2,048).
    expect(new Set(served.map((s) => s.variant)).size).toBe(2);
    // A signed-in user is their own targeting key; an API key's search without one is in none.
    const rows = await eventually(async () => {
      const found = await testDb()
        .select()
        .from(experimentExposures)
        .where(eq(experimentExposures.experimentId, experiment.id));
      return found.length >= served.length ? found : undefined;
    }, 20_000);
    for (const s of served) {
      expect(rows.find((r) => r.subjectId === s.queryId)).toMatchObject({
        variant: s.variant,
        targetingKey: s.key,
        outcome: 'ok',
        resultCount: 1,
      });
    }
    // The first three searches get a click.
    for (const s of served.slice(0, 3)) {
      const click = await call(
        '/v1/search/clicks',
        json('POST', { query_id: s.queryId, content_id: contentId, position: 1 }, auth),
      );
      expect(click.status).toBeLessThan(300);
    }
    const results = await eventually(async () => {
      const response = await call(`/v1/experiments/${experiment.id}/results`, { headers: auth });
      expect(response.status).toBe(200);
      const body = (await response.json()) as {
        control: { key: string; exposures: number; conversions: number; units: number };
        variants: { key: string; exposures: number; conversions: number; decision: string }[];
        decision: string;
      };
      const conversions = body.control.conversions + body.variants[0]!.conversions;
      return conversions === 3 ? body : undefined;
    }, 20_000);
    const byVariant = (v: string) => served.filter((s) => s.variant === v);
    expect(results.control.exposures).toBe(byVariant('control').length);
    expect(results.control.units).toBe(byVariant('control').length);
    expect(results.variants[0]!.exposures).toBe(byVariant('fresher').length);
    expect(results.control.conversions).toBe(
      served.slice(0, 3).filter((s) => s.variant === 'control').length,
    );
    expect(results.decision).toBe('keep_running');
    const [stored] = await testDb()
      .select()
      .from(experiments)
      .where(eq(experiments.id, experiment.id));
    expect(Object.keys(stored!.sequential)).toEqual(
      expect.arrayContaining(['fresher', 'error_rate:fresher']),
    );
    await act(experiment.id, 'stop');
    // Stopped: searches are in no experiment.
    const after = (await (
      await call('/v1/search?q=harbour&targeting_key=reader-1', { headers: auth })
    ).json()) as Record<string, unknown>;
    expect(after.experiment).toBeUndefined();
  });

  it('decides for the variant that converts more, and promotes the winner to the stored settings once stopped', async () => {
    const experiment = await create(searchExperiment('promotable', { guardrails: [] }));
    await act(experiment.id, 'start');
    const db = testDb();
    const { exposures, clicks } = traffic(experiment.id, [
      { variant: 'control', readers: 400, searches: 1, clicks: (reader) => reader < 80 },
      { variant: 'fresher', readers: 400, searches: 1, clicks: (reader) => reader < 160 },
    ]);
    expect(await persistExposures(db, exposures)).toBe(800);
    // Delivered twice: counted once.
    expect(await persistExposures(db, exposures.slice(0, 10))).toBe(0);
    await persistEngagementEvents(db, clicks);
    await expectProblem(
      await call(`/v1/experiments/${experiment.id}/promote`, json('POST', {}, auth)),
      409,
    );
    const response = await call(`/v1/experiments/${experiment.id}/results`, { headers: auth });
    const results = (await response.json()) as {
      control: { rate: number; design_effect: number };
      variants: {
        key: string;
        rate: number;
        decision: string;
        relative_lift: number;
        sequential: { p_value: number };
      }[];
      decision: string;
      winner: string | null;
      sample_ratio: { mismatch: boolean };
    };
    expect(results.control.rate).toBeCloseTo(0.2, 10);
    expect(results.control.design_effect).toBe(1);
    expect(results.variants[0]).toMatchObject({ key: 'fresher', decision: 'variant_wins' });
    expect(results.variants[0]!.relative_lift).toBeCloseTo(1, 10);
    expect(results).toMatchObject({ decision: 'variant_wins', winner: 'fresher' });
    expect(results.sample_ratio.mismatch).toBe(false);

    // Promotion: only once stopped; the control cannot be promoted; the winner by default.
    await expectProblem(
      await call(`/v1/experiments/${experiment.id}/promote`, json('POST', {}, auth)),
      409,
    );
    await act(experiment.id, 'stop');
    const control = await expectProblem(
      await call(
        `/v1/experiments/${experiment.id}/promote`,
        json('POST', { variant: 'control' }, auth),
      ),
      422,
    );
    expect(control.errors?.[0]?.path).toBe('body.variant');
    await expectProblem(
      await call(
        `/v1/experiments/${experiment.id}/promote`,
        json('POST', { variant: 'nope' }, auth),
      ),
      422,
    );
    const promoted = await call(`/v1/experiments/${experiment.id}/promote`, json('POST', {}, auth));
    expect(promoted.status, await promoted.clone().text()).toBe(200);
    expect(await promoted.json()).toMatchObject({ promoted_variant: 'fresher' });
    const [org] = await db.select().from(organizations).where(eq(organizations.id, orgId));
    expect(org!.settings.search).toMatchObject({ freshness_half_life_days: 7 });
    const settings = (await (
      await call('/v1/search/settings', { headers: auth })
    ).json()) as Record<string, unknown>;
    expect(settings.freshness_half_life_days).toBe(7);
    const audited = await auditedEventually('experiment.promote', experiment.id);
    expect(audited.data).toMatchObject({
      variant: 'fresher',
      settings: 'search',
      after: { freshness_half_life_days: 7 },
    });
    await expectProblem(
      await call(`/v1/experiments/${experiment.id}/promote`, json('POST', {}, auth)),
      409,
    );
  });

  it('corrects for a reader searching many times, and flags a sample-ratio mismatch', async () => {
    const experiment = await create(searchExperiment('clustered', { guardrails: [] }));
    await act(experiment.id, 'start');
    // Control: 100 readers; variant: 200 readers (a 50/50 allocation: a mismatch). Each reader
    // searches 5 times and either always clicks or never does.
    const { exposures, clicks } = traffic(experiment.id, [
      { variant: 'control', readers: 100, searches: 5, clicks: (reader) => reader % 4 === 0 },
      { variant: 'fresher', readers: 200, searches: 5, clicks: (reader) => reader % 4 === 0 },
    ]);
    await persistExposures(testDb(), exposures);
    await persistEngagementEvents(testDb(), clicks);
    const results = (await (
      await call(`/v1/experiments/${experiment.id}/results`, { headers: auth })
    ).json()) as {
      control: { units: number; exposures: number; design_effect: number };
      sample_ratio: { mismatch: boolean };
      decision: string;
    };
    expect(results.control).toMatchObject({ units: 100, exposures: 500 });
    // All-or-nothing readers of 5 searches: each reader is worth one trial, not five.
    expect(results.control.design_effect).toBeCloseTo(5, 6);
    expect(results.sample_ratio.mismatch).toBe(true);
    expect(results.decision).toBe('sample_ratio_mismatch');
  });

  it('assigns recommendation readers, records the list as the exposure, and stores the blend', async () => {
    const experiment = await create({
      key: 'blend-live',
      surface: 'recommendations',
      variants: [
        { key: 'control', weight: 50 },
        {
          key: 'fresh',
          weight: 50,
          settings: { cold_start: { trending: 0, popularity: 0, freshness: 1 } },
        },
      ],
      primary_metric: 'click_through_rate',
    });
    await act(experiment.id, 'start');
    const response = await call('/v1/recommendations?anonymous_id=visitor-7', { headers: auth });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { recomm_id: string; experiment?: { variant: string } };
    // A signed-in reader is their own targeting key, before the visitor's id.
    const expected = assign(
      {
        id: experiment.id,
        key: experiment.key,
        variants: experiment.variants,
        trafficPercent: 100,
        salt: experiment.salt,
      },
      ownerId,
    );
    expect(body.experiment).toEqual({ key: 'blend-live', variant: expected!.variant });
    const exposure = await eventually(async () => {
      const [row] = await testDb()
        .select()
        .from(experimentExposures)
        .where(eq(experimentExposures.subjectId, body.recomm_id));
      return row;
    }, 20_000);
    expect(exposure).toMatchObject({
      experimentId: experiment.id,
      variant: body.experiment!.variant,
    });
    await act(experiment.id, 'stop');

    // The stored blend: read, written conditionally, validated.
    const read = await call('/v1/recommendations/settings', { headers: auth });
    expect(read.status).toBe(200);
    const etag = read.headers.get('ETag')!;
    expect(await read.json()).toMatchObject({ stored: null, category_share: 0.3 });
    const bad = await expectProblem(
      await call(
        '/v1/recommendations/settings',
        json(
          'PUT',
          { other_signals: { session: 0, category: 0, trending: 0, popularity: 0, freshness: 0 } },
          auth,
        ),
      ),
      400,
    );
    expect(bad.errors?.[0]?.path).toBe('body.other_signals');
    await expectProblem(
      await call(
        '/v1/recommendations/settings',
        json('PUT', { category_share: 0.5 }, { ...auth, 'If-Match': '"stale"' }),
      ),
      412,
    );
    const written = await call(
      '/v1/recommendations/settings',
      json('PUT', { category_share: 0.5 }, { ...auth, 'If-Match': etag }),
    );
    expect(written.status).toBe(200);
    expect(await written.json()).toMatchObject({
      category_share: 0.5,
      stored: { category_share: 0.5 },
    });
  });

  it('answers 404 for an unknown id and 400 for a malformed one', async () => {
    await expectProblem(
      await call(`/v1/experiments/${newId('experiment')}`, { headers: auth }),
      404,
    );
    const problem = await expectProblem(
      await call('/v1/experiments/not-an-id/results', { headers: auth }),
      400,
    );
    expect(problem.errors?.[0]?.path).toBe('path.id');
  });

  it('lets a viewer do nothing with experiments (403)', async () => {
    const viewer = bearer((await tokenFor(await createMember(orgId, 'viewer'))).token);
    await expectProblem(await call('/v1/experiments', { headers: viewer }), 403);
  });
});
