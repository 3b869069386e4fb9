import { and, eq, isNull } from 'drizzle-orm';
import type { Context } from 'hono';
import type { AuditAction } from '../../../../shared/audit.ts';
import { type Permission, principalId } from '../../../../shared/auth/permissions.ts';
import { composeSnapshot, nextSnapshot } from '../../../../shared/content/compose.ts';
import {
  type ContentInput,
  type ContentPatch,
  patchContent,
  type TransitionRequest,
} from '../../../../shared/content/schema.ts';
import { slugFromTitle } from '../../../../shared/content/slug.ts';
import {
  checkEdit,
  DELETE_PERMISSION,
  planTransition,
} from '../../../../shared/content/workflow.ts';
import { type ContentSnapshot, categories } from '../../../../shared/db/schema/content.ts';
import { AppError, fieldErrors } from '../../../../shared/errors.ts';
import { newId } from '../../../../shared/ids.ts';
import type { AppBindings } from '../../app.ts';
import { audit } from '../../audit.ts';
import type { ContentChange, SlugPicker } from '../../content-write.ts';
import { contentNotFound } from './get.ts';

/** A 403 for a content change the caller's permissions do not cover, audited as a denial. */
export function denied(c: Context<AppBindings>, permission: Permission, detail: string): AppError {
  audit(c, {
    action: 'permission.denied',
    data: { permission, method: c.req.method, route: c.req.routePath },
  });
  return new AppError({ code: 'FORBIDDEN', message: detail, extensions: { permission } });
}

/**
 * The next snapshot of a save (create or full update) of `input` over `current`: the edit is
 * checked against the caller's permissions (`checkEdit`), the category against the organisation
 * (when Postgres answers; the consumer checks it anyway), and translations without a slug get
 * one generated from their title, unique in the organisation and locale (`pick`: one round
 * trip per request, whatever the number of items with that title).
 */
export async function planSave(
  c: Context<AppBindings>,
  id: string,
  current: ContentSnapshot | null,
  input: ContentInput,
  pick: SlugPicker,
): Promise<ContentSnapshot> {
  const principal = c.var.principal!;
  const edit = checkEdit(current, input, principal.permissions);
  if (!edit.ok) {
    throw denied(
      c,
      edit.permission,
      current === null || edit.permission === 'content:write'
        ? `Saving content needs the "${edit.permission}" permission.`
        : `Editing ${current.status} content or its schedule needs the "${edit.permission}" permission.`,
    );
  }
  if (input.category_id !== null && input.category_id !== current?.category_id) {
    await checkCategory(c, input.category_id);
  }
  const slugs: Record<string, string> = {};
  await Promise.all(
    Object.entries(input.translations).map(async ([locale, t]) => {
      if (t.slug !== undefined || current?.translations[locale]) return;
      slugs[locale] = await pick(locale, slugFromTitle(t.title), id);
    }),
  );
  return composeSnapshot(current, input, {
    id,
    orgId: principal.orgId,
    actorId: principalId(principal),
    now: new Date(),
    slugFor: (locale, generated) => slugs[locale] ?? generated,
  });
}

/** 422 when the category is not one of the organisation's; skipped when Postgres is down. */
async function checkCategory(c: Context<AppBindings>, categoryId: string) {
  const { services } = c.var;
  let found: boolean;
  try {
    const rows = await services.guard('postgres', () =>
      services.db
        .select({ id: categories.id })
        .from(categories)
        .where(
          and(
            eq(categories.id, categoryId),
            eq(categories.orgId, c.var.principal!.orgId),
            isNull(categories.deletedAt),
          ),
        )
        .limit(1),
    );
    found = rows.length > 0;
  } catch {
    return;
  }
  if (!found) {
    throw new AppError({
      code: 'UNPROCESSABLE',
      message: `Category ${categoryId} does not exist in this organisation.`,
      errors: [{ path: 'body.category_id', message: 'must be a category of this organisation' }],
    });
  }
}

/** A deleted item is not there for edits (404); restore it first. */
export function notDeleted(current: ContentSnapshot): ContentSnapshot {
  if (current.deleted_at !== null) throw contentNotFound();
  return current;
}

const conditional = (ifMatch: string | undefined) => (ifMatch === undefined ? {} : { ifMatch });

/** A new item with `input` (POST, or a bulk create), with a fresh id. */
export function createChange(c: Context<AppBindings>, input: ContentInput): ContentChange {
  const id = newId('content');
  return {
    id,
    action: 'create',
    audit: 'content.create',
    create: true,
    plan: (current, pick) => planSave(c, id, current, input, pick),
  };
}

/** A full update of item `id` with `input` (PUT). */
export function replaceChange(
  c: Context<AppBindings>,
  id: string,
  ifMatch: string | undefined,
  input: ContentInput,
): ContentChange {
  return {
    id,
    action: 'update',
    audit: 'content.update',
    create: false,
    ...conditional(ifMatch),
    plan: (current, pick) => planSave(c, id, notDeleted(current!), input, pick),
  };
}

/**
 * A partial update of item `id` (a merge patch). The merged item is validated as a full update;
 * what it breaks is a 422 whose field paths start with `prefix` (`body`, or a bulk item's).
 */
export function patchChange(
  c: Context<AppBindings>,
  id: string,
  ifMatch: string | undefined,
  patch: ContentPatch,
  prefix: string,
): ContentChange {
  return {
    id,
    action: 'update',
    audit: 'content.update',
    create: false,
    ...conditional(ifMatch),
    plan: (current, pick) => {
      const merged = patchContent(notDeleted(current!), patch);
      if (!merged.ok) {
        const errors = fieldErrors(merged.error, prefix);
        throw new AppError({
          code: 'UNPROCESSABLE',
          message:
            errors.length === 1
              ? `The patched item is invalid: ${errors[0]!.path}: ${errors[0]!.message}`
              : `The patched item is invalid in ${errors.length} fields; see errors`,
          errors,
        });
      }
      return planSave(c, id, current, merged.input, pick);
    },
  };
}

/** A soft delete of item `id`: a new version with `deleted_at` set. Needs `content:delete`. */
export function deleteChange(
  c: Context<AppBindings>,
  id: string,
  ifMatch: string | undefined,
): ContentChange {
  return {
    id,
    action: 'delete',
    audit: 'content.delete',
    create: false,
    ...conditional(ifMatch),
    plan: async (current) => {
      const principal = c.var.principal!;
      if (!principal.permissions.has(DELETE_PERMISSION)) {
        throw denied(
          c,
          DELETE_PERMISSION,
          `Deleting content needs the "${DELETE_PERMISSION}" permission.`,
        );
      }
      const now = new Date();
      return nextSnapshot(
        notDeleted(current!),
        { deleted_at: now.toISOString() },
        { actorId: principalId(principal), now },
      );
    },
  };
}

/**
 * A workflow move of item `id` (`request.action`), checked against the item's status and the
 * caller's permissions: `403` without the action's permission, `409` naming the allowed actions
 * when it cannot start from the current status, `422` for a schedule in the past. Audited as
 * `content.<action>`.
 */
export function transitionChange(
  c: Context<AppBindings>,
  id: string,
  ifMatch: string | undefined,
  request: TransitionRequest,
  prefix = 'body',
): ContentChange {
  return {
    id,
    action: 'transition',
    audit: `content.${request.action}` as AuditAction,
    auditData: {
      action: request.action,
      ...(request.comment ? { comment: request.comment } : {}),
    },
    create: false,
    ...conditional(ifMatch),
    plan: async (current) => {
      const principal = c.var.principal!;
      const item = notDeleted(current!);
      const now = new Date();
      const plan = planTransition(item, request.action, principal.permissions, {
        now,
        ...(request.publish_at !== undefined ? { publishAt: request.publish_at } : {}),
        ...(request.unpublish_at !== undefined ? { unpublishAt: request.unpublish_at } : {}),
      });
      if (plan.ok) return nextSnapshot(item, plan.fields, { actorId: principalId(principal), now });
      switch (plan.reason) {
        case 'forbidden':
          throw denied(
            c,
            plan.permission,
            `${plan.action} needs the "${plan.permission}" permission.`,
          );
        case 'invalid_transition':
          throw new AppError({
            code: 'CONFLICT',
            message:
              `${plan.action} cannot start from ${plan.from}; ` +
              (plan.allowed.length > 0 ? `allowed: ${plan.allowed.join(', ')}.` : 'no action can.'),
            extensions: { status_now: plan.from, action: plan.action, allowed: plan.allowed },
          });
        case 'invalid_schedule':
          throw new AppError({
            code: 'UNPROCESSABLE',
            message: `${prefix}.${plan.path}: ${plan.message}`,
            errors: [{ path: `${prefix}.${plan.path}`, message: plan.message }],
          });
      }
    },
  };
}
