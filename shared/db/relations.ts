import { relations } from 'drizzle-orm';
import {
  apiKeys,
  auditLog,
  categories,
  content,
  contentTranslations,
  contentVersions,
  invitations,
  memberships,
  operations,
  organizations,
  sessionEvents,
  synonyms,
  users,
  webhookDeliveries,
  webhookEndpoints,
  webhookSources,
} from './schema/index.ts';

/**
 * Relations for drizzle's relational queries (`db.query.content.findMany({ with: { translations:
 * true } })`). Pass them with the tables: `drizzle(client, { schema: { ...schema, ...relations
 * } })`. They describe joins only; the foreign keys live in the schema and migrations.
 * Composite keys (org_id, id) join on the id alone: ids are globally unique.
 */
export const organizationsRelations = relations(organizations, ({ many }) => ({
  memberships: many(memberships),
  categories: many(categories),
  content: many(content),
  apiKeys: many(apiKeys),
}));

export const usersRelations = relations(users, ({ many }) => ({
  memberships: many(memberships),
  sessionEvents: many(sessionEvents),
}));

export const membershipsRelations = relations(memberships, ({ one }) => ({
  organization: one(organizations, { fields: [memberships.orgId], references: [organizations.id] }),
  user: one(users, { fields: [memberships.userId], references: [users.id] }),
}));

export const invitationsRelations = relations(invitations, ({ one }) => ({
  organization: one(organizations, { fields: [invitations.orgId], references: [organizations.id] }),
  invitedBy: one(users, { fields: [invitations.invitedBy], references: [users.id] }),
}));

export const apiKeysRelations = relations(apiKeys, ({ one }) => ({
  organization: one(organizations, { fields: [apiKeys.orgId], references: [organizations.id] }),
  replacedBy: one(apiKeys, { fields: [apiKeys.replacedBy], references: [apiKeys.id] }),
}));

export const sessionEventsRelations = relations(sessionEvents, ({ one }) => ({
  user: one(users, { fields: [sessionEvents.userId], references: [users.id] }),
}));

export const categoriesRelations = relations(categories, ({ one, many }) => ({
  organization: one(organizations, { fields: [categories.orgId], references: [organizations.id] }),
  parent: one(categories, {
    fields: [categories.parentId],
    references: [categories.id],
    relationName: 'category_parent',
  }),
  children: many(categories, { relationName: 'category_parent' }),
  content: many(content),
}));

export const contentRelations = relations(content, ({ one, many }) => ({
  organization: one(organizations, { fields: [content.orgId], references: [organizations.id] }),
  category: one(categories, { fields: [content.categoryId], references: [categories.id] }),
  translations: many(contentTranslations),
  versions: many(contentVersions),
  source: one(webhookSources, { fields: [content.sourceId], references: [webhookSources.id] }),
}));

export const contentTranslationsRelations = relations(contentTranslations, ({ one }) => ({
  content: one(content, { fields: [contentTranslations.contentId], references: [content.id] }),
}));

export const contentVersionsRelations = relations(contentVersions, ({ one }) => ({
  content: one(content, { fields: [contentVersions.contentId], references: [content.id] }),
}));

export const synonymsRelations = relations(synonyms, ({ one }) => ({
  organization: one(organizations, { fields: [synonyms.orgId], references: [organizations.id] }),
}));

export const operationsRelations = relations(operations, ({ one }) => ({
  organization: one(organizations, { fields: [operations.orgId], references: [organizations.id] }),
}));

export const auditLogRelations = relations(auditLog, ({ one }) => ({
  organization: one(organizations, { fields: [auditLog.orgId], references: [organizations.id] }),
}));

export const webhookEndpointsRelations = relations(webhookEndpoints, ({ many }) => ({
  deliveries: many(webhookDeliveries),
}));

export const webhookDeliveriesRelations = relations(webhookDeliveries, ({ one }) => ({
  endpoint: one(webhookEndpoints, {
    fields: [webhookDeliveries.endpointId],
    references: [webhookEndpoints.id],
  }),
}));
