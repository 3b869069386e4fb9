import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { and, eq, inArray, ne, sql } from 'drizzle-orm';
import type { Schema } from 'hono';
import { principalId } from '../../../../shared/auth/permissions.ts';
import { sqlState } from '../../../../shared/db/errors.ts';
import { experiments } from '../../../../shared/db/schema/experiments.ts';
import { AppError } from '../../../../shared/errors.ts';
import {
  EXPERIMENTS_TTL_MS,
  forgetRunningExperiments,
} from '../../../../shared/experiments/definition.ts';
import type { AppBindings } from '../../app.ts';
import { audit } from '../../audit.ts';
import { requireAuth } from '../../middleware/auth.ts';
import { COMMON_PROBLEMS, problemResponses } from '../../openapi.ts';
import {
  ETAG_HEADER,
  ExperimentIdParamsSchema,
  type ExperimentRow,
  ExperimentSchema,
  experimentEtag,
  experimentView,
  IfMatchHeaderSchema,
  lockedExperiment,
} from './schema.ts';

type Status = ExperimentRow['status'];

/** The changes of status: from which statuses each goes, and to which. */
const TRANSITIONS = {
  start: {
    from: ['draft', 'paused'],
    to: 'running',
    summary: 'Start (or resume) an experiment',
    description:
      'A draft or paused experiment starts assigning targeting keys and counting exposures. At ' +
      'most one experiment per surface is running or paused: another one is a `409`.',
  },
  pause: {
    from: ['running'],
    to: 'paused',
    summary: 'Pause an experiment',
    description:
      'Everyone gets the stored settings and nothing is counted until it is started again; ' +
      'keys keep their variants.',
  },
  stop: {
    from: ['running', 'paused'],
    to: 'stopped',
    summary: 'Stop an experiment',
    description:
      'Final: everyone gets the stored settings. Its results stay readable, and its winner can ' +
      'be promoted (`POST …/promote`).',
  },
} as const satisfies Record<
  string,
  { from: readonly Status[]; to: Status; summary: string; description: string }
>;

type Action = keyof typeof TRANSITIONS;

/** The route of one change of status: `POST /v1/experiments/{id}/<action>`. */
export function transitionRoute<A extends Action>(action: A) {
  const t = TRANSITIONS[action];
  return createRoute({
    method: 'post',
    path: `/v1/experiments/{id}/${action}`,
    tags: ['experiments'],
    summary: t.summary,
    description:
      `${t.description} Only from ${t.from.join(' or ')} (else \`409\`). \`If-Match\` with ` +
      'the `ETag` makes it conditional. Applies at once in this instance, everywhere within ' +
      `${EXPERIMENTS_TTL_MS / 1000} s. Audited as \`experiment.${action}\`. Needs \`settings:manage\`.`,
    security: [{ bearer: [] }],
    middleware: [requireAuth('settings:manage')] as const,
    request: { params: ExperimentIdParamsSchema, headers: IfMatchHeaderSchema },
    responses: {
      200: {
        description: 'The experiment as it now is.',
        headers: ETAG_HEADER,
        content: { 'application/json': { schema: ExperimentSchema } },
      },
      ...problemResponses(
        'VALIDATION_FAILED',
        'UNAUTHORIZED',
        'FORBIDDEN',
        'NOT_FOUND',
        'CONFLICT',
        'PRECONDITION_FAILED',
        'RATE_LIMITED',
        ...COMMON_PROBLEMS,
      ),
    },
  });
}

/** The `409` of a change the experiment's status does not allow. */
export const wrongStatus = (row: ExperimentRow, what: string, allowed: readonly Status[]) =>
  new AppError({
    code: 'CONFLICT',
    message: `The experiment is ${row.status}: only a ${allowed.join(' or ')} one can be ${what}.`,
    extensions: { status: row.status },
  });

/**
 * Registers `route`, which moves an experiment from one of `action`'s statuses to its next, in a
 * transaction holding the row, then forgets this isolate's running experiments so the change
 * serves at once. A start that would make a second running or paused experiment on the surface
 * (the partial unique index) is a `409` naming the other one.
 */
export function registerTransition<S extends Schema, A extends Action>(
  app: OpenAPIHono<AppBindings, S>,
  action: A,
  route: ReturnType<typeof transitionRoute<A>>,
) {
  const t = TRANSITIONS[action];
  return app.openapi(route, async (c) => {
    const principal = c.var.principal!;
    const { orgId } = principal;
    const { id } = c.req.valid('param');
    const ifMatch = c.req.valid('header')['if-match'];
    const { services } = c.var;
    let changed: { before: ExperimentRow; after: ExperimentRow };
    try {
      changed = await services.transaction(async (tx) => {
        const before = await lockedExperiment(tx, orgId, id, ifMatch);
        if (!(t.from as readonly Status[]).includes(before.status)) {
          throw wrongStatus(before, `${action === 'stop' ? 'stopped' : `${action}ed`}`, t.from);
        }
        const now = new Date();
        const [after] = await tx
          .update(experiments)
          .set({
            status: t.to,
            version: before.version + 1,
            updatedBy: principalId(principal),
            ...(action === 'start' && before.startedAt === null ? { startedAt: now } : {}),
            ...(action === 'stop' ? { stoppedAt: now } : {}),
          })
          .where(eq(experiments.id, before.id))
          .returning();
        return { before, after: after! };
      });
    } catch (error) {
      if (sqlState(error) === '23505') {
        // The one running or paused on this experiment's surface, to name in the answer.
        const [other] = await services.db
          .select({ key: experiments.key, id: experiments.id })
          .from(experiments)
          .where(
            and(
              eq(experiments.orgId, orgId),
              ne(experiments.id, id),
              inArray(experiments.status, ['running', 'paused']),
              sql`${experiments.surface} = (select surface from experiments where id = ${id})`,
            ),
          );
        throw new AppError({
          code: 'CONFLICT',
          message:
            'Another experiment on this surface is running or paused' +
            `${other ? ` ("${other.key}", ${other.id})` : ''}: stop it first.`,
          extensions: other ? { experiment_id: other.id } : {},
        });
      }
      throw error;
    }
    forgetRunningExperiments(orgId);
    audit(c, {
      action: `experiment.${action}`,
      targetType: 'experiment',
      targetId: id,
      data: { before: { status: changed.before.status }, after: { status: changed.after.status } },
    });
    return c.json(experimentView(changed.after), 200, { ETag: experimentEtag(changed.after) });
  });
}
