/**
 * The database schema, one module per area. Import from here in application code:
 * `import { content, contentTranslations } from '../shared/db/schema/index.ts'`.
 */
export * from './access.ts';
export * from './ai.ts';
export * from './audit.ts';
export * from './auth.ts';
export * from './content.ts';
export * from './documents.ts';
export * from './events.ts';
export * from './experiments.ts';
export * from './flags.ts';
export * from './operations.ts';
export * from './search.ts';
export * from './tenancy.ts';
export * from './trends.ts';
export * from './webhooks.ts';
