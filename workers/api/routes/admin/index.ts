import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Schema } from 'hono';
import type { AppBindings } from '../../app.ts';
import { registerAdminAccessRulesCreate } from './access-rules-create.ts';
import { registerAdminAccessRulesDelete } from './access-rules-delete.ts';
import { registerAdminAccessRulesList } from './access-rules-list.ts';
import { registerAdminUsersUpdate } from './users-update.ts';

/** Platform administration (super admins only): the allow and deny lists, and accounts. */
export function registerAdmin<S extends Schema>(app: OpenAPIHono<AppBindings, S>) {
  return registerAdminUsersUpdate(
    registerAdminAccessRulesDelete(
      registerAdminAccessRulesCreate(registerAdminAccessRulesList(app)),
    ),
  );
}
