import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { and, eq, inArray } from 'drizzle-orm';
import type { Context, Schema } from 'hono';
import { ledgerOf } from '../../../../durable-objects/content-ledger.ts';
import {
  ContentSnapshotSchema,
  ContentVersionResource,
  ContentVersionSummary,
  VersionNumber,
} from '../../../../shared/content/schema.ts';
import { loadSnapshots } from '../../../../shared/content/store.ts';
import { contentEtag } from '../../../../shared/content/view.ts';
import { INT4_MAX } from '../../../../shared/db/integers.ts';
import { type ContentSnapshot, contentVersions } from '../../../../shared/db/schema/content.ts';
import { AppError } from '../../../../shared/errors.ts';
import { CircuitOpenError } from '../../../../shared/resilience/circuit-breaker.ts';
import { faultOf } from '../../../../shared/resilience/faults.ts';
import type { AppBindings } from '../../app.ts';
import { READ_RETRY_AFTER_SECONDS } from '../../content-read.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import { contentNotFound } from './get.ts';
import { ContentIdParamsSchema } from './schema.ts';

/** Seconds to wait for a version the ledger accepted but the consumer has not persisted yet. */
const PENDING_RETRY_AFTER_SECONDS = 1;
/** A version never changes: a client may keep it for good (it is the organisation's, though). */
const IMMUTABLE = 'private, max-age=31536000, immutable';

export const ContentVersionSummarySchema = z
  .object(ContentVersionSummary.shape)
  .openapi('ContentVersionSummary', {
    description:
      'One version of an item: its workflow status then, the operation that wrote it (null for ' +
      'imported items and a version not yet persisted), who made it (`created_by`: a user, ' +
      'an API key or `system`) and when.',
  });

export const ContentSnapshotVersionSchema = z
  .object(ContentSnapshotSchema.shape)
  .openapi('ContentSnapshot', {
    description: 'The whole item as one version left it (every translation).',
  });

export const ContentVersionSchema = z
  .object({ ...ContentVersionResource.shape, snapshot: ContentSnapshotVersionSchema })
  .openapi('ContentVersion', { description: 'One version of an item and its snapshot.' });

/**
 * A version number in the path (`/versions/3`). The shared rule coerces (its input is unknown, so
 * it cannot be piped from a string), and `.openapi()` exists only on schemas made after
 * `@hono/zod-openapi` extended zod: its OpenAPI details go in zod's own `.meta()`, which the
 * generator reads too.
 */
/**
 * A version number a client sends, held to its column's range (`integer`): a larger one names no
 * version, and would make Postgres refuse the query.
 */
export const StoredVersionNumber = VersionNumber.max(INT4_MAX, `must be at most ${INT4_MAX}`);

const VersionParam = StoredVersionNumber.meta({
  param: { name: 'version', in: 'path' },
  description: `A version number of the item, 1 to ${INT4_MAX}.`,
  example: 3,
});

export const ContentVersionParamsSchema = ContentIdParamsSchema.extend({ version: VersionParam });

export type StoredVersion = {
  summary: z.output<typeof ContentVersionSummary>;
  snapshot: ContentSnapshot;
  /**
   * False: the item's head standing in for a version `content_versions` does not hold (accepted
   * and not yet persisted, or an imported item without history); it has no operation id.
   */
  recorded: boolean;
};

/** A 503 for a read that needs Postgres while it is down. */
export function versionsUnavailable(detail: string, cause?: unknown): AppError {
  return new AppError({
    code: 'SERVICE_UNAVAILABLE',
    message: detail,
    headers: { 'Retry-After': String(READ_RETRY_AFTER_SECONDS) },
    ...(cause === undefined ? {} : { cause }),
  });
}

/**
 * Runs a Postgres query; an outage (a failed call or an open circuit) is a 503, not a 500. Any
 * other error (a query Postgres refused) goes on as it is: the request's fault is not an outage.
 */
export async function fromPostgres<T>(c: Context<AppBindings>, fn: () => Promise<T>): Promise<T> {
  try {
    return await c.var.services.guard('postgres', fn);
  } catch (error) {
    if (!(error instanceof CircuitOpenError) && faultOf(error) !== 'postgres') throw error;
    throw versionsUnavailable('The version history cannot be read now (Postgres is down).', error);
  }
}

/** The head of `id` in the caller's organisation: the ledger's, else the item row in Postgres. */
export async function contentHead(
  c: Context<AppBindings>,
  id: string,
): Promise<{ ledger: ContentSnapshot | undefined; postgres: ContentSnapshot | undefined }> {
  const { orgId } = c.var.principal!;
  const { services } = c.var;
  const [ledger, postgres] = await Promise.all([
    (async () => {
      try {
        return (await ledgerOf(c.env, orgId).heads([id]))[id];
      } catch (error) {
        // The ledger only knows writes since it began; Postgres still answers for the rest.
        services.logger.warn('content ledger unavailable for a version read', { orgId, error });
        return undefined;
      }
    })(),
    fromPostgres(c, () =>
      loadSnapshots(services.db, orgId, [id], { includeDeleted: true }).then((m) => m.get(id)),
    ),
  ]);
  return { ledger, postgres };
}

/** A head that has no `content_versions` row (yet) as a version. */
function headVersion(head: ContentSnapshot): StoredVersion {
  return {
    summary: {
      version: head.version,
      status: head.status,
      operation_id: null,
      created_by: head.updated_by,
      created_at: head.updated_at,
    },
    snapshot: head,
    recorded: false,
  };
}

/**
 * Versions `versions` of item `id` in the caller's organisation, by number. They come from
 * `content_versions`; a version that is not there yet but is the item's head (accepted moments
 * ago and only in the ledger, or an imported item that has no history) is the head itself. A
 * version between the last persisted one and the ledger's head is still on its way to Postgres:
 * a 503 with `Retry-After: 1`. Throws the 404 for an item not in the organisation (deleted ones
 * are there: their history stays readable); versions that do not exist are absent from the map.
 */
export async function readVersions(
  c: Context<AppBindings>,
  id: string,
  versions: number[],
): Promise<Map<number, StoredVersion>> {
  const { orgId } = c.var.principal!;
  const { db } = c.var.services;
  const wanted = [...new Set(versions)];
  const rows = await fromPostgres(c, () =>
    db
      .select()
      .from(contentVersions)
      .where(
        and(
          eq(contentVersions.orgId, orgId),
          eq(contentVersions.contentId, id),
          inArray(contentVersions.version, wanted),
        ),
      ),
  );
  const found = new Map<number, StoredVersion>();
  for (const row of rows) {
    found.set(row.version, {
      summary: {
        version: row.version,
        status: row.status,
        operation_id: row.operationId,
        created_by: row.createdBy,
        created_at: row.createdAt.toISOString(),
      },
      snapshot: row.snapshot,
      recorded: true,
    });
  }
  const missing = wanted.filter((v) => !found.has(v));
  if (missing.length === 0) return found;

  const head = await contentHead(c, id);
  const latest = head.ledger ?? head.postgres;
  if (!latest) {
    if (rows.length > 0) return found;
    throw contentNotFound();
  }
  const persisted = head.postgres?.version ?? 0;
  for (const version of missing) {
    if (version === latest.version) {
      found.set(version, headVersion(latest));
    } else if (version <= latest.version && version > persisted) {
      throw new AppError({
        code: 'SERVICE_UNAVAILABLE',
        message: `Version ${version} of ${id} was accepted and is being persisted; retry shortly.`,
        headers: { 'Retry-After': String(PENDING_RETRY_AFTER_SECONDS) },
      });
    }
  }
  return found;
}

/** The 404 for a version the item does not have; `path` names the parameter that asked. */
export function versionNotFound(id: string, version: number, path: string): AppError {
  return new AppError({
    code: 'NOT_FOUND',
    message: `${id} has no version ${version}.`,
    errors: [{ path, message: 'is not a version of this item', code: 'not_found' }],
  });
}

/** `Cache-Control` of an answer built from these versions: immutable once all are recorded. */
export function versionsCacheControl(versions: StoredVersion[]): string {
  return versions.every((v) => v.recorded) ? IMMUTABLE : 'private, no-cache';
}

const VERSION_HEADERS = z.object({
  ETag: z.string().openapi({
    description: 'Weak (`W/`) while the version is known only from its head, not yet recorded.',
    example: '"cnt_01jd5x3k7yf0v9r2m4q6s8t1wz.v3"',
  }),
  'Cache-Control': z.string().openapi({ example: IMMUTABLE }),
});

export const route = createRoute({
  method: 'get',
  path: '/v1/content/{id}/versions/{version}',
  tags: ['content'],
  summary: 'Get a version of a content item',
  description:
    'One version of an item (deleted items included) with its whole snapshot. A version never ' +
    'changes, so it is served as immutable (`Cache-Control: private, max-age=31536000, ' +
    'immutable`); `If-None-Match` with its `ETag` answers `304`. A version accepted a moment ago ' +
    'is readable at once when it is the latest; an older one still on its way to Postgres is a ' +
    '`503` with `Retry-After: 1`. Needs `content:read`.',
  security: [{ bearer: [] }],
  middleware: [requireAuth('content:read')] as const,
  request: { params: ContentVersionParamsSchema },
  responses: {
    200: {
      description: 'The version.',
      headers: VERSION_HEADERS,
      content: { 'application/json': { schema: ContentVersionSchema } },
    },
    304: {
      description: 'Not modified: `If-None-Match` names this version.',
      headers: VERSION_HEADERS,
    },
    ...problemResponses(
      'VALIDATION_FAILED',
      'UNAUTHORIZED',
      'FORBIDDEN',
      'NOT_FOUND',
      'SERVICE_UNAVAILABLE',
      ...COMMON_PROBLEMS,
    ),
  },
});

/** Whether `If-None-Match` names `etag` (weak comparison, RFC 9110 §13.1.2). */
function noneMatch(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  const strong = (tag: string) => (tag.startsWith('W/') ? tag.slice(2) : tag);
  return header
    .split(',')
    .map((t) => t.trim())
    .some((tag) => tag === '*' || strong(tag) === strong(etag));
}

export function registerContentVersionGet<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return app.openapi(route, async (c) => {
    const { id, version } = c.req.valid('param');
    const stored = (await readVersions(c, id, [version])).get(version);
    if (!stored) throw versionNotFound(id, version, 'path.version');
    const strong = contentEtag(id, version);
    const headers = {
      ETag: stored.recorded ? strong : `W/${strong}`,
      'Cache-Control': versionsCacheControl([stored]),
    };
    if (noneMatch(c.req.header('If-None-Match'), strong)) return c.body(null, 304, headers);
    const body = ContentVersionResource.parse({ ...stored.summary, snapshot: stored.snapshot });
    return c.json(body, 200, headers);
  });
}
