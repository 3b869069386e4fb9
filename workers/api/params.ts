import { z } from '@hono/zod-openapi';
import { exampleId, type IdKind, idRule, isId } from '../../shared/ids.ts';

/**
 * An id of one kind wherever a route takes one (path, query or body): a value that cannot be
 * such an id (another prefix, another length, characters outside the alphabet) is a 400 naming
 * the field and the form expected (`path.id: must be a content id: "cnt_" and 26 characters…`);
 * a well-formed id that names nothing the caller can see is the route's 404.
 */
export function Id(kind: IdKind) {
  return z
    .string()
    .refine((value) => isId(kind, value), idRule(kind))
    .openapi({ example: exampleId(kind) });
}

/** The path parameters of a route addressing one resource by its id (`/v1/keys/{id}`). */
export function idParams<const N extends string = 'id'>(kind: IdKind, name: N = 'id' as N) {
  return z.object({
    [name]: Id(kind).openapi({ param: { name, in: 'path' }, example: exampleId(kind) }),
  } as Record<N, ReturnType<typeof Id>>);
}
