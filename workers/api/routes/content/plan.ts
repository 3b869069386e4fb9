import { and, eq, isNull } from 'drizzle-orm';
import type { Context } from 'hono';
import type { Permission } from '../../../../shared/auth/permissions.ts';
import { composeSnapshot } from '../../../../shared/content/compose.ts';
import type { ContentInput } from '../../../../shared/content/schema.ts';
import { slugFromTitle, uniqueSlug } from '../../../../shared/content/slug.ts';
import { checkEdit } from '../../../../shared/content/workflow.ts';
import { type ContentSnapshot, categories } from '../../../../shared/db/schema/content.ts';
import { AppError } from '../../../../shared/errors.ts';
import type { AppBindings } from '../../app.ts';
import { audit } from '../../audit.ts';
import type { SlugCheck } from '../../content-write.ts';

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
 * one generated from their title, unique in the organisation and locale.
 */
export async function planSave(
  c: Context<AppBindings>,
  id: string,
  current: ContentSnapshot | null,
  input: ContentInput,
  taken: SlugCheck,
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
  for (const [locale, t] of Object.entries(input.translations)) {
    if (t.slug !== undefined || current?.translations[locale]) continue;
    const slug = await uniqueSlug(slugFromTitle(t.title), (candidate) =>
      taken(locale, candidate, id),
    );
    if (slug === null) {
      throw new AppError({
        code: 'CONFLICT',
        message: `No free slug could be made from the ${locale} title; give one.`,
        errors: [
          {
            path: `body.translations.${locale}.slug`,
            message: 'is required here',
            code: 'slug_taken',
          },
        ],
      });
    }
    slugs[locale] = slug;
  }
  return composeSnapshot(current, input, {
    id,
    orgId: principal.orgId,
    actorId: principal.kind === 'user' ? principal.userId : principal.keyId,
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
