import { and, eq, inArray, isNull, sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import pg from 'pg';
import { hashPassword } from '../../shared/auth/passwords.ts';
import {
  type ContentSnapshot,
  categories,
  content,
  contentTranslations,
  contentVersions,
  events,
  experimentExposures,
  experiments,
  flagSets,
  flags,
  memberships,
  organizations,
  synonyms,
  users,
  webhookEndpoints,
  webhookSources,
} from '../../shared/db/schema/index.ts';
import { newId } from '../../shared/ids.ts';
import { openSecret, sealSecret } from '../../shared/secret-box.ts';
import { slugify } from '../../shared/text/slug.ts';
import { LOCAL_DATABASE_URL, redactUrl } from './migrate.ts';
import { CATEGORY_BANKS } from './sample-data/categories.ts';
import { composeSampleItems, type SampleItem, WRITER_COUNT } from './sample-data/compose.ts';
import {
  BURST_HOURS,
  composeBurst,
  composeEngagement,
  type SampleEvent,
} from './sample-data/engagement.ts';
import { composeSearchTraffic, SAMPLE_EXPERIMENTS } from './sample-data/experiments.ts';
import { SAMPLE_FLAGS } from './sample-data/flags.ts';
import {
  SAMPLE_ORG,
  SAMPLE_PASSWORD,
  SAMPLE_SYNONYMS,
  SAMPLE_USERS,
} from './sample-data/people.ts';
import { SAMPLE_ENDPOINT, SAMPLE_SOURCE } from './sample-data/sources.ts';

// Any drizzle Postgres database: node-postgres here, PGlite in tests.
// biome-ignore lint/suspicious/noExplicitAny: the schema type parameter is irrelevant here
type Database = PgDatabase<PgQueryResultHKT, any>;

export type SeedOptions = {
  /** How many content items (default 360). */
  items?: number;
  /** The moment the sample timeline is anchored to (default: now). */
  now?: Date;
  /**
   * The Worker's `SECRETS_KEY`: given, the sample upstream source (an inbound webhook source,
   * `sample-data/sources.ts`) is added too, its secret sealed with this key.
   */
  secretsKey?: string;
  /**
   * Where the sample receiver of `npm run dev` listens: given (with `secretsKey`), the sample
   * outbound endpoint (`sample-data/sources.ts`) is added, or pointed there again.
   */
  sampleReceiverUrl?: string;
};

/** Rows inserted per table; all zero when the sample data was already there. */
export type SeedResult = {
  organizations: number;
  users: number;
  memberships: number;
  categories: number;
  content: number;
  translations: number;
  versions: number;
  synonyms: number;
  flags: number;
  experiments: number;
  experiment_exposures: number;
  webhook_sources: number;
  webhook_endpoints: number;
  events: number;
};

const DAY = 86_400_000;

/**
 * Loads the sample data into a migrated database: the `sift-demo` organisation, its members
 * (one or more per role, plus a platform super admin), categories, a few hundred bilingual
 * content items with their translations and first version, synonyms, feature flags and
 * experiments (a stopped one with its recorded traffic, a running one).
 *
 * Idempotent: every row is matched on a natural key (organisation slug, lower(email), category
 * slug, the item's slug in its default locale, the synonym set, the flag key, archived flags
 * included, the experiment key) and only missing rows are
 * inserted, in one transaction, so a second run changes nothing. The text is the same on every
 * run (seeded composition); ids are fresh `newId()`s on the first insert, their timestamps
 * matching `created_at`; times are relative to `options.now`.
 */
export async function seedDatabase(url: string, options: SeedOptions = {}): Promise<SeedResult> {
  const client = new pg.Client({ connectionString: url, application_name: 'sift-seed' });
  await client.connect();
  try {
    return await seed(drizzle({ client }), options);
  } finally {
    await client.end();
  }
}

/** `seedDatabase` on an open drizzle database (tests use PGlite in-process). */
export async function seed(db: Database, options: SeedOptions = {}): Promise<SeedResult> {
  const now = options.now ?? new Date();
  const items = composeSampleItems(options.items ?? 360);
  const result = await db.transaction(async (tx) => {
    const result: SeedResult = {
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
    const orgCreatedAt = new Date(now.getTime() - 600 * DAY);

    const org = await tx
      .insert(organizations)
      .values({
        id: newId('organization', orgCreatedAt.getTime()),
        slug: SAMPLE_ORG.slug,
        name: SAMPLE_ORG.name,
        defaultLocale: SAMPLE_ORG.defaultLocale,
        locales: SAMPLE_ORG.locales,
        createdAt: orgCreatedAt,
        updatedAt: orgCreatedAt,
      })
      .onConflictDoNothing()
      .returning({ id: organizations.id });
    result.organizations = org.length;
    const [sampleOrg] = await tx
      .select({ id: organizations.id })
      .from(organizations)
      .where(eq(organizations.slug, SAMPLE_ORG.slug));
    if (!sampleOrg) throw new Error(`organisation ${SAMPLE_ORG.slug} is missing`);
    const orgId = sampleOrg.id;

    // Users, matched case-insensitively on email (the unique index). All share one development
    // password (README), so every role can sign in locally.
    const passwordHash = await hashPassword(SAMPLE_PASSWORD);
    const userRows = SAMPLE_USERS.map((user, i) => {
      const createdAt = new Date(orgCreatedAt.getTime() + i * DAY);
      return {
        id: newId('user', createdAt.getTime()),
        email: user.email,
        name: user.name,
        locale: user.locale,
        isSuperAdmin: user.isSuperAdmin ?? false,
        passwordHash,
        emailVerifiedAt: createdAt,
        lastLoginAt: new Date(now.getTime() - (i + 1) * 3_600_000),
        createdAt,
        updatedAt: createdAt,
      };
    });
    result.users = (
      await tx.insert(users).values(userRows).onConflictDoNothing().returning({ id: users.id })
    ).length;
    // Databases seeded before sample users had a password get one.
    await tx
      .update(users)
      .set({ passwordHash })
      .where(
        and(
          isNull(users.passwordHash),
          inArray(
            sql`lower(${users.email})`,
            SAMPLE_USERS.map((u) => u.email.toLowerCase()),
          ),
        ),
      );
    const userIds = new Map(
      (
        await tx
          .select({ id: users.id, email: sql<string>`lower(${users.email})` })
          .from(users)
          .where(
            inArray(
              sql`lower(${users.email})`,
              SAMPLE_USERS.map((u) => u.email.toLowerCase()),
            ),
          )
      ).map((row) => [row.email, row.id]),
    );
    const userId = (email: string) => {
      const id = userIds.get(email.toLowerCase());
      if (!id) throw new Error(`sample user ${email} is missing`);
      return id;
    };

    result.memberships = (
      await tx
        .insert(memberships)
        .values(
          SAMPLE_USERS.flatMap((user) =>
            user.role ? [{ orgId, userId: userId(user.email), role: user.role }] : [],
          ),
        )
        .onConflictDoNothing()
        .returning({ userId: memberships.userId })
    ).length;

    // Categories: parents first, so children can point at them.
    const categoryIds = await liveCategoryIds(tx, orgId);
    const parents = CATEGORY_BANKS.map((bank, position) => ({
      slug: bank.slug,
      names: bank.names,
      descriptions: bank.descriptions,
      position,
      parentSlug: null as string | null,
    }));
    const children = CATEGORY_BANKS.flatMap((bank) =>
      bank.subcategories.map((sub, position) => ({
        slug: sub.slug,
        names: sub.names,
        descriptions: {},
        position,
        parentSlug: bank.slug,
      })),
    );
    for (const level of [parents, children]) {
      const missing = level.filter((category) => !categoryIds.has(category.slug));
      if (missing.length === 0) continue;
      const inserted = await tx
        .insert(categories)
        .values(
          missing.map((category) => ({
            id: newId('category', orgCreatedAt.getTime()),
            orgId,
            slug: category.slug,
            parentId: category.parentSlug ? categoryIds.get(category.parentSlug) : null,
            names: category.names,
            descriptions: category.descriptions,
            position: category.position,
            createdAt: orgCreatedAt,
            updatedAt: orgCreatedAt,
          })),
        )
        .returning({ id: categories.id, slug: categories.slug });
      for (const row of inserted) categoryIds.set(row.slug, row.id);
      result.categories += inserted.length;
    }

    // Content: an item exists when its default-locale slug is taken by a live translation.
    const existingSlugs = new Set(
      (
        await tx
          .select({ locale: contentTranslations.locale, slug: contentTranslations.slug })
          .from(contentTranslations)
          .where(and(eq(contentTranslations.orgId, orgId), isNull(contentTranslations.deletedAt)))
      ).map((row) => `${row.locale}/${row.slug}`),
    );
    const writers = SAMPLE_USERS.filter((u) => u.role === 'author' || u.role === 'editor');
    const editors = SAMPLE_USERS.filter((u) => u.role === 'editor');
    if (writers.length < WRITER_COUNT || editors.length === 0) {
      throw new Error('the sample users need five writers and an editor');
    }
    const pending = items
      .map((item) => ({ item, slugs: slugsOf(item) }))
      .filter(
        ({ item, slugs }) =>
          !existingSlugs.has(`${item.defaultLocale}/${slugs[item.defaultLocale]}`),
      );
    for (const batch of chunks(pending, 100)) {
      const rows = batch.map(({ item, slugs }) => {
        const writer = writers[item.writer]!;
        const editor = editors[item.writer % editors.length]!;
        return buildRows(item, slugs, {
          orgId,
          categoryId: categoryIds.get(item.category) ?? null,
          createdBy: userId(writer.email),
          updatedBy: userId(item.status === 'draft' ? writer.email : editor.email),
          now,
        });
      });
      await tx.insert(content).values(rows.map((r) => r.content));
      const translations = rows.flatMap((r) => r.translations);
      await tx.insert(contentTranslations).values(translations);
      await tx.insert(contentVersions).values(rows.map((r) => r.version));
      result.content += rows.length;
      result.translations += translations.length;
      result.versions += rows.length;
    }

    const eventRow = (event: SampleEvent) => ({
      id: newId('event', event.occurredAt.getTime()),
      occurredAt: event.occurredAt,
      orgId,
      type: event.type,
      anonymousId: event.anonymousId,
      sessionId: event.sessionId,
      contentId: event.contentId,
      data: event.data,
    });
    // Engagement (`sample-data/engagement.ts`) over the published items, oldest first.
    const published = await tx
      .select({
        id: content.id,
        category: content.categoryId,
        tags: content.tags,
        locales: sql<string[]>`array(select t.locale from ${contentTranslations} t
          where t.org_id = ${content.orgId} and t.content_id = ${content.id} order by t.locale)`,
      })
      .from(content)
      .where(
        and(eq(content.orgId, orgId), eq(content.status, 'published'), isNull(content.deletedAt)),
      )
      .orderBy(content.createdAt, content.id);
    // Readers' history, once: when the organisation has no sample events.
    const [seeded] = await tx
      .select({ id: events.id })
      .from(events)
      .where(and(eq(events.orgId, orgId), sql`${events.data}->>'sample' = 'true'`))
      .limit(1);
    if (!seeded) {
      const sample = composeEngagement(published, now);
      for (const batch of chunks(sample, 1_000))
        await tx.insert(events).values(batch.map(eventRow));
      result.events = sample.length;
    }
    // A burst of reading on one story's items whenever the last is over BURST_HOURS old, so
    // `GET /v1/trending` and `GET /v1/trends` show something rising on kept data too.
    const [recentBurst] = await tx
      .select({ id: events.id })
      .from(events)
      .where(
        and(
          eq(events.orgId, orgId),
          sql`${events.data}->>'sample_burst' = 'true'`,
          sql`${events.occurredAt} > ${new Date(now.getTime() - BURST_HOURS * 3_600_000).toISOString()}::timestamptz`,
        ),
      )
      .limit(1);
    if (!recentBurst) {
      const burst = composeBurst(published, now);
      if (burst.length > 0) await tx.insert(events).values(burst.map(eventRow));
      result.events += burst.length;
    }

    // Synonym sets, matched on their whole definition.
    const synonymKey = (s: {
      locale: string;
      kind: string;
      root: string | null;
      terms: string[];
    }) => JSON.stringify([s.locale, s.kind, s.root, s.terms]);
    const existingSynonyms = new Set(
      (await tx.select().from(synonyms).where(eq(synonyms.orgId, orgId))).map(synonymKey),
    );
    const missingSynonyms = SAMPLE_SYNONYMS.filter((s) => !existingSynonyms.has(synonymKey(s)));
    if (missingSynonyms.length > 0) {
      const owner = SAMPLE_USERS.find((u) => u.role === 'owner')!;
      await tx.insert(synonyms).values(
        missingSynonyms.map((s) => ({
          id: newId('synonym'),
          orgId,
          locale: s.locale,
          kind: s.kind,
          root: s.root,
          terms: s.terms,
          createdBy: userId(owner.email),
        })),
      );
      result.synonyms = missingSynonyms.length;
    }

    // Feature flags, matched on their key (an archived one keeps it, so it is not brought back).
    // Inserting any moves the organisation's flag-set version on, as an API change does, so a
    // snapshot cached in KV on a kept database is replaced by the next evaluation.
    const flagOwner = userId(SAMPLE_USERS.find((u) => u.role === 'owner')!.email);
    const insertedFlags = await tx
      .insert(flags)
      .values(
        SAMPLE_FLAGS.map((flag) => ({
          id: newId('flag'),
          orgId,
          key: flag.key,
          type: flag.type,
          description: flag.description ?? null,
          variants: flag.variants,
          defaultVariant: flag.default_variant,
          rules: flag.rules,
          allow: flag.allow,
          deny: flag.deny,
          killSwitch: flag.kill_switch,
          salt: flag.salt,
          createdBy: flagOwner,
          updatedBy: flagOwner,
        })),
      )
      .onConflictDoNothing()
      .returning({ id: flags.id });
    result.flags = insertedFlags.length;
    if (insertedFlags.length > 0) {
      await tx
        .insert(flagSets)
        .values({ orgId, version: 1 })
        .onConflictDoUpdate({
          target: flagSets.orgId,
          set: { version: sql`${flagSets.version} + 1`, updatedAt: sql`now()` },
        });
    }

    // Experiments, matched on their key (`sample-data/experiments.ts`). The stopped search
    // experiment comes with its recorded traffic: exposures, searches and clicks.
    const experimentOwner = userId(SAMPLE_USERS.find((u) => u.role === 'owner')!.email);
    for (const sample of SAMPLE_EXPERIMENTS) {
      const startedAt = new Date(now.getTime() - sample.startedDaysAgo * DAY);
      const [inserted] = await tx
        .insert(experiments)
        .values({
          id: newId('experiment', startedAt.getTime()),
          orgId,
          key: sample.key,
          description: sample.description,
          surface: sample.surface,
          status: sample.status,
          variants: sample.variants,
          primaryMetric: sample.primaryMetric,
          guardrails: sample.guardrails,
          salt: sample.salt,
          version: sample.status === 'stopped' ? 3 : 2,
          startedAt,
          stoppedAt:
            sample.stoppedDaysAgo === undefined
              ? null
              : new Date(now.getTime() - sample.stoppedDaysAgo * DAY),
          createdBy: experimentOwner,
          updatedBy: experimentOwner,
          createdAt: startedAt,
        })
        .onConflictDoNothing()
        .returning({ id: experiments.id });
      if (!inserted) continue;
      result.experiments++;
      if (sample.surface !== 'search') continue;
      const searches = composeSearchTraffic(
        { ...sample, id: inserted.id },
        published.map((p) => p.id),
        now,
        (at) => newId('query', at.getTime()),
      );
      for (const batch of chunks(searches, 500)) {
        await tx.insert(experimentExposures).values(
          batch.map((search) => ({
            experimentId: inserted.id,
            subjectId: search.queryId,
            orgId,
            variant: search.variant,
            targetingKey: search.targetingKey,
            outcome: 'ok',
            latencyMs: search.latencyMs,
            resultCount: search.resultCount,
            occurredAt: search.at,
          })),
        );
        const searchEvents = batch.flatMap((search) => {
          const performed = {
            id: newId('event', search.at.getTime()),
            occurredAt: search.at,
            orgId,
            type: 'search.performed',
            anonymousId: search.targetingKey,
            queryId: search.queryId,
            data: {
              query: search.query,
              normalized: search.query,
              mode: 'hybrid',
              locale: null,
              result_count: search.resultCount,
              latency_ms: search.latencyMs,
              cache: 'miss',
              degraded: false,
              filtered: false,
              filters: null,
              sample: true,
            },
          };
          if (!search.clicked) return [performed];
          const clickedAt = new Date(search.at.getTime() + 20_000);
          return [
            performed,
            {
              id: newId('event', clickedAt.getTime()),
              occurredAt: clickedAt,
              orgId,
              type: 'search.result_clicked',
              anonymousId: search.targetingKey,
              contentId: search.clicked,
              queryId: search.queryId,
              data: { position: 1, sample: true },
            },
          ];
        });
        await tx.insert(events).values(searchEvents);
        result.events += searchEvents.length;
      }
      result.experiment_exposures += searches.length;
    }

    // The sample upstream source, matched on its name; only when its secret can be sealed.
    if (options.secretsKey) {
      const [existingSource] = await tx
        .select({ id: webhookSources.id, sealed: webhookSources.secretCiphertext })
        .from(webhookSources)
        .where(and(eq(webhookSources.orgId, orgId), eq(webhookSources.name, SAMPLE_SOURCE.name)));
      if (existingSource) {
        // A new .dev.vars brings a new key: the sample secret (public) is sealed again with it.
        const context = `webhook_sources:${existingSource.id}`;
        const keys = { current: options.secretsKey };
        const opens = await openSecret(keys, existingSource.sealed!, context).then(
          ({ stale }) => !stale,
          () => false,
        );
        if (!opens) {
          await tx
            .update(webhookSources)
            .set({ secretCiphertext: await sealSecret(keys, SAMPLE_SOURCE.secret, context) })
            .where(eq(webhookSources.id, existingSource.id));
        }
      } else {
        const id = newId('webhookSource');
        const owner = SAMPLE_USERS.find((u) => u.role === 'owner')!;
        await tx.insert(webhookSources).values({
          id,
          orgId,
          name: SAMPLE_SOURCE.name,
          kind: SAMPLE_SOURCE.kind,
          secretCiphertext: await sealSecret(
            { current: options.secretsKey },
            SAMPLE_SOURCE.secret,
            `webhook_sources:${id}`,
          ),
          config: { mapping: SAMPLE_SOURCE.mapping },
          createdBy: userId(owner.email),
        });
        result.webhook_sources = 1;
      }
    }

    // The sample outbound endpoint, matched on its description, pointed at the sample receiver.
    if (options.secretsKey && options.sampleReceiverUrl) {
      const keys = { current: options.secretsKey };
      const [existing] = await tx
        .select({ id: webhookEndpoints.id, sealed: webhookEndpoints.secretCiphertext })
        .from(webhookEndpoints)
        .where(
          and(
            eq(webhookEndpoints.orgId, orgId),
            eq(webhookEndpoints.description, SAMPLE_ENDPOINT.description),
          ),
        );
      const id = existing?.id ?? newId('webhookEndpoint');
      const context = `webhook_endpoints:${id}`;
      if (existing) {
        const opens = await openSecret(keys, existing.sealed, context).then(
          ({ stale }) => !stale,
          () => false,
        );
        await tx
          .update(webhookEndpoints)
          .set({
            url: options.sampleReceiverUrl,
            ...(opens
              ? {}
              : { secretCiphertext: await sealSecret(keys, SAMPLE_ENDPOINT.secret, context) }),
          })
          .where(eq(webhookEndpoints.id, id));
      } else {
        const owner = SAMPLE_USERS.find((u) => u.role === 'owner')!;
        await tx.insert(webhookEndpoints).values({
          id,
          orgId,
          url: options.sampleReceiverUrl,
          description: SAMPLE_ENDPOINT.description,
          eventTypes: SAMPLE_ENDPOINT.eventTypes,
          secretCiphertext: await sealSecret(keys, SAMPLE_ENDPOINT.secret, context),
          createdBy: userId(owner.email),
        });
        result.webhook_endpoints = 1;
      }
    }
    return result;
  });
  // Fresh statistics for the planner: the engagement queries (recommendations, trending) pick
  // the per-reader and per-item indexes only when it knows how many events there are, and
  // PGlite (the default local database) has no autovacuum to learn it.
  if (result.events > 0) await db.execute(sql`analyze events`);
  return result;
}

async function liveCategoryIds(db: Database, orgId: string): Promise<Map<string, string>> {
  const rows = await db
    .select({ id: categories.id, slug: categories.slug })
    .from(categories)
    .where(and(eq(categories.orgId, orgId), isNull(categories.deletedAt)));
  return new Map(rows.map((row) => [row.slug, row.id]));
}

function slugsOf(item: SampleItem): Record<string, string> {
  return Object.fromEntries(
    Object.entries(item.translations).map(([locale, text]) => [locale, slugify(text.title)]),
  );
}

type RowContext = {
  orgId: string;
  categoryId: string | null;
  createdBy: string;
  updatedBy: string;
  now: Date;
};

/** The content row, its translations and its first version, with times made absolute. */
function buildRows(item: SampleItem, slugs: Record<string, string>, ctx: RowContext) {
  const at = (daysFromNow: number) =>
    new Date(Math.floor((ctx.now.getTime() + daysFromNow * DAY) / 1000) * 1000);
  const createdAt = at(-item.ageDays);
  const updatedAt = at(-item.ageDays + item.editedAfterDays);
  const publishedAt =
    item.publishedAfterDays === null ? null : at(-item.ageDays + item.publishedAfterDays);
  const publishAt = item.publishInDays === null ? null : at(item.publishInDays);
  const unpublishAt = item.unpublishInDays === null ? null : at(item.unpublishInDays);
  const id = newId('content', createdAt.getTime());

  const translations = Object.entries(item.translations).map(([locale, text]) => ({
    contentId: id,
    orgId: ctx.orgId,
    locale,
    title: text.title,
    summary: text.summary,
    body: text.body,
    slug: slugs[locale]!,
    createdAt,
    updatedAt,
  }));
  const row = {
    id,
    orgId: ctx.orgId,
    status: item.status,
    version: 1,
    categoryId: ctx.categoryId,
    tags: item.tags,
    metadata: item.metadata,
    defaultLocale: item.defaultLocale,
    publishAt,
    unpublishAt,
    publishedAt,
    createdBy: ctx.createdBy,
    updatedBy: ctx.updatedBy,
    createdAt,
    updatedAt,
  };
  const iso = (date: Date | null) => date?.toISOString() ?? null;
  const snapshot: ContentSnapshot = {
    id,
    org_id: ctx.orgId,
    status: item.status,
    version: 1,
    category_id: ctx.categoryId,
    tags: item.tags,
    metadata: item.metadata,
    default_locale: item.defaultLocale,
    publish_at: iso(publishAt),
    unpublish_at: iso(unpublishAt),
    published_at: iso(publishedAt),
    created_by: ctx.createdBy,
    updated_by: ctx.updatedBy,
    created_at: createdAt.toISOString(),
    updated_at: updatedAt.toISOString(),
    deleted_at: null,
    translations: Object.fromEntries(
      translations.map((t) => [
        t.locale,
        { title: t.title, summary: t.summary, body: t.body, slug: t.slug },
      ]),
    ),
  };
  return {
    content: row,
    translations,
    version: {
      contentId: id,
      version: 1,
      orgId: ctx.orgId,
      snapshot,
      status: item.status,
      createdBy: ctx.updatedBy,
      createdAt: updatedAt,
    },
  };
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

if (import.meta.main) {
  const url = process.env.DATABASE_URL || LOCAL_DATABASE_URL;
  try {
    const result = await seedDatabase(url);
    const inserted = Object.entries(result).filter(([, n]) => n > 0);
    console.log(
      inserted.length === 0
        ? `${redactUrl(url)}: sample data already present, nothing inserted`
        : `${redactUrl(url)}: inserted ${inserted.map(([table, n]) => `${n} ${table}`).join(', ')}`,
    );
  } catch (error) {
    console.error(`seeding ${redactUrl(url)} failed (did you run tools/db/migrate.ts?):`, error);
    process.exitCode = 1;
  }
}
