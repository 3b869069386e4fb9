import { z } from '@hono/zod-openapi';
import { and, eq } from 'drizzle-orm';
import { ACTOR_DESCRIPTION, ActorRefSchema } from '../../../../shared/actor.ts';
import type { PooledDatabase } from '../../../../shared/db/client.ts';
import { flags } from '../../../../shared/db/schema/flags.ts';
import { AppError } from '../../../../shared/errors.ts';
import { FLAG_TYPES } from '../../../../shared/flags/rules.ts';
import {
  AllowListSchema,
  checkDefinition,
  FLAG_LIMITS,
  FlagDefinitionSchema,
  FlagKeySchema,
  RuleSchema,
  VariantSchema,
} from '../../../../shared/flags/schema.ts';
import type { FlagRow } from '../../../../shared/flags/store.ts';
import { ifMatchAllows, ifMatchHeader, preconditionFailed } from '../../if-match.ts';
import { PageCursor, pageLimit } from '../../pagination.ts';

export const FlagSchema = z
  .object({
    id: z.string().openapi({ example: 'flg_01jd5x3k7yf0v9r2m4q6s8t1wz' }),
    key: z.string().openapi({ example: 'new-checkout' }),
    type: z.enum(FLAG_TYPES),
    description: z.string().nullable(),
    variants: z.array(z.object({ key: z.string(), value: z.unknown() })).openapi({
      example: [
        { key: 'on', value: true },
        { key: 'off', value: false },
      ],
    }),
    default_variant: z.string().openapi({ example: 'off' }),
    rules: z.array(z.record(z.string(), z.unknown())).openapi({
      description: 'The targeting rules, in the order they are tried (see the README).',
      example: [
        {
          conditions: [{ attribute: 'country', operator: 'in', value: ['SA', 'AE'] }],
          variant: 'on',
        },
        { conditions: [], rollout: { variant: 'on', percent: 10 } },
      ],
    }),
    allow: z.array(z.object({ variant: z.string(), keys: z.array(z.string()) })),
    deny: z.array(z.string()),
    kill_switch: z.boolean(),
    salt: z.string().openapi({
      description: 'Seeds bucketing: a targeting key is bucketed by SHA-256(salt + "." + key).',
      example: 'pY3k9dQ2',
    }),
    version: z
      .number()
      .int()
      .openapi({ description: 'Counts its changes; in the ETag.', example: 3 }),
    archived_at: z.iso.datetime().nullable(),
    created_by: ActorRefSchema.meta({ description: `Who created it: ${ACTOR_DESCRIPTION}.` }),
    updated_by: ActorRefSchema.meta({ description: `Who changed it last: ${ACTOR_DESCRIPTION}.` }),
    created_at: z.iso.datetime().openapi({ example: '2025-01-01T12:00:00.000Z' }),
    updated_at: z.iso.datetime().openapi({ example: '2025-01-01T12:00:00.000Z' }),
  })
  .openapi('Flag');
export type FlagView = z.infer<typeof FlagSchema>;

export const FlagPageSchema = z
  .object({
    items: z.array(FlagSchema),
    next_cursor: z.string().nullable().openapi({
      description: 'Pass as `cursor` for the next page; null on the last page.',
    }),
  })
  .openapi('FlagPage');

export const FlagCreateSchema = FlagDefinitionSchema.openapi('FlagCreate');

/** A change: the fields given replace the stored ones; key, type and salt never change. */
export const FlagPatchSchema = z
  .strictObject({
    description: z.string().max(1000).nullable().optional(),
    variants: z.array(VariantSchema).min(1).max(FLAG_LIMITS.variants).optional(),
    default_variant: z.string().min(1).max(FLAG_LIMITS.keyLength).optional(),
    rules: z.array(RuleSchema).max(FLAG_LIMITS.rules).optional(),
    allow: z.array(AllowListSchema).max(FLAG_LIMITS.variants).optional(),
    deny: z
      .array(z.string().min(1).max(FLAG_LIMITS.targetingKeyLength))
      .max(FLAG_LIMITS.targetingKeys)
      .optional(),
    kill_switch: z.boolean().optional(),
  })
  .openapi('FlagPatch');
export type FlagPatch = z.infer<typeof FlagPatchSchema>;

export const FlagKeyParamsSchema = z.object({
  key: FlagKeySchema.openapi({ param: { name: 'key', in: 'path' }, example: 'new-checkout' }),
});

export const FlagListQuerySchema = z.object({
  archived: z
    .enum(['true', 'false'])
    .optional()
    .openapi({ description: '`true`: only archived flags; `false` (default): only live ones.' }),
  limit: pageLimit('Flags'),
  cursor: PageCursor,
});

export const IfMatchHeaderSchema = ifMatchHeader({
  description:
    'Change only if the flag is still at this `ETag` (from a read or a write), else `412` ' +
    'with `current_etag`. Without it the last writer wins.',
  example: '"flg_01jd5x3k7yf0v9r2m4q6s8t1wz.3"',
  maxLength: 200,
});

export const ETAG_HEADER = z.object({
  ETag: z.string().openapi({
    description: 'The flag as it now is; send it as `If-Match` to change only this state.',
    example: '"flg_01jd5x3k7yf0v9r2m4q6s8t1wz.3"',
  }),
});

/** A flag's strong ETag: its id and version. */
export function flagEtag(row: Pick<FlagRow, 'id' | 'version'>): string {
  return `"${row.id}.${row.version}"`;
}

export function flagNotFound(): AppError {
  return new AppError({ code: 'NOT_FOUND', message: 'There is no flag with this key.' });
}

/**
 * The organisation's flag `key`, locked (`for update`) for the change `tx` makes: a `404` when
 * there is none, a `412` when `ifMatch` is given and does not name its state.
 */
export async function lockedFlag(
  tx: PooledDatabase,
  orgId: string,
  key: string,
  ifMatch: string | undefined,
): Promise<FlagRow> {
  const [current] = await tx
    .select()
    .from(flags)
    .where(and(eq(flags.orgId, orgId), eq(flags.key, key)))
    .for('update');
  if (!current) throw flagNotFound();
  const etag = flagEtag(current);
  if (ifMatch !== undefined && !ifMatchAllows(ifMatch, etag)) {
    throw preconditionFailed(etag, 'state of the flag');
  }
  return current;
}

/** A flag as the API shows it. */
export function flagView(row: FlagRow): FlagView {
  return FlagSchema.parse({
    id: row.id,
    key: row.key,
    type: row.type,
    description: row.description,
    variants: row.variants,
    default_variant: row.defaultVariant,
    rules: row.rules,
    allow: row.allow,
    deny: row.deny,
    kill_switch: row.killSwitch,
    salt: row.salt,
    version: row.version,
    archived_at: row.archivedAt?.toISOString() ?? null,
    created_by: row.createdBy,
    updated_by: row.updatedBy,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  });
}

/** The audit `data` of a flag's state: its definition (before or after a change). */
export function flagAuditData(row: FlagRow) {
  return {
    key: row.key,
    type: row.type,
    description: row.description,
    variants: row.variants,
    default_variant: row.defaultVariant,
    rules: row.rules,
    allow: row.allow,
    deny: row.deny,
    kill_switch: row.killSwitch,
    version: row.version,
    archived_at: row.archivedAt?.toISOString() ?? null,
  };
}

/**
 * The stored flag with `patch` applied, checked as a whole: a 400 naming each broken rule at
 * its body path (`body.rules.2.split`), as a create would.
 */
export function applyPatch(row: FlagRow, patch: FlagPatch) {
  const merged = {
    type: row.type,
    description: patch.description === undefined ? row.description : patch.description,
    variants: patch.variants ?? row.variants,
    default_variant: patch.default_variant ?? row.defaultVariant,
    rules: patch.rules ?? row.rules,
    allow: patch.allow ?? row.allow,
    deny: patch.deny ?? row.deny,
    kill_switch: patch.kill_switch ?? row.killSwitch,
  };
  const issues = checkDefinition(merged);
  if (issues.length > 0) {
    const errors = issues.map((issue) => ({
      path: ['body', ...issue.path].join('.'),
      message: issue.message,
      code: 'custom',
    }));
    throw new AppError({
      code: 'VALIDATION_FAILED',
      message:
        errors.length === 1
          ? `${errors[0]!.path}: ${errors[0]!.message}`
          : `${errors.length} fields are invalid; see errors`,
      errors,
    });
  }
  return merged;
}
