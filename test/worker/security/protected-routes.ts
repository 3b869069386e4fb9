import type { Permission } from '../../../shared/auth/permissions.ts';

/**
 * Another organisation's resources, named in the paths and bodies of the routes under test. The
 * suite creates them in organisation A; every call comes from outside it (or from inside it
 * without the permission), so none of them may change or show up in a response.
 */
export type Fixture = {
  orgId: string;
  ownerId: string;
  ownerEmail: string;
  editorId: string;
  editorEmail: string;
  /** A viewer, the member the membership routes try to change or remove. */
  targetId: string;
  keyId: string;
  invitationId: string;
  sessionId: string;
  accessRuleId: string;
  /** A queued operation of organisation A. */
  operationId: string;
  /** A content item of organisation A, and its English slug. */
  contentId: string;
  contentSlug: string;
  /** A search synonym set of organisation A. */
  synonymId: string;
  /** An inbound webhook source of organisation A. */
  webhookSourceId: string;
  /** An outbound webhook endpoint of organisation A, and a failed delivery of it. */
  webhookEndpointId: string;
  webhookDeliveryId: string;
  /** A trending topic of organisation A. */
  topicId: string;
  /** A document of organisation A (visible to the whole organisation). */
  documentId: string;
  /** The key of a feature flag of organisation A. */
  flagKey: string;
  /** A draft experiment of organisation A. */
  experimentId: string;
};

export type ProtectedRoute = {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  /**
   * The route as registered (`/v1/keys/:id`); the suite checks every /v1 and /ofrep route is
   * listed.
   */
  route: string;
  /** The concrete path, naming organisation A's resources where the route takes an id. */
  path: (a: Fixture) => string;
  /** A valid body, so that what refuses the call is authorisation, not validation. */
  body?: (a: Fixture) => unknown;
  /**
   * For a route whose body is a file, not JSON: a valid one (new bytes at every call, so two
   * uploads are never the same file) and its media type.
   */
  upload?: () => { contentType: string; bytes: Uint8Array };
  /** The permission the route needs; null when any signed-in caller may call it. */
  permission: Permission | null;
  /** A second permission that also lets a caller in (`requireAuth`'s `or`). */
  orPermission?: Permission;
  /** Only signed-in users (not API keys) may call it. */
  userOnly?: boolean;
  /**
   * What a caller from organisation B gets: `not_found` when the path names A's resource,
   * `own_data` when the route answers with B's own data (lists, creates), `forbidden` for
   * platform routes that no organisation role reaches.
   */
  otherTenant: 'not_found' | 'own_data' | 'forbidden';
  /**
   * For `own_data` routes, the statuses a call may answer besides 2xx (a second rebuild of B's
   * own index while its first runs is a 409 naming B's own operation).
   */
  alsoAnswers?: number[];
};

/** The title of organisation A's published, indexed item. */
export const SEARCH_SECRET = 'Isolation searchable lighthouse';
/** What the search routes ask for: words of that title (not all of it: the query is echoed). */
const SEARCH_QUERY = 'searchable lighthouse';

/**
 * Every protected `/v1` route. A later issue that adds a route adds it here (the suite fails
 * until it does), with a body that passes validation.
 */
export const PROTECTED_ROUTES: ProtectedRoute[] = [
  // Auth: the caller's own user and sessions.
  {
    method: 'GET',
    route: '/v1/auth/me',
    path: () => '/v1/auth/me',
    permission: null,
    userOnly: true,
    otherTenant: 'own_data',
  },
  {
    method: 'POST',
    route: '/v1/auth/logout',
    path: () => '/v1/auth/logout',
    permission: null,
    userOnly: true,
    otherTenant: 'own_data',
  },
  {
    method: 'GET',
    route: '/v1/auth/sessions',
    path: () => '/v1/auth/sessions',
    permission: null,
    userOnly: true,
    otherTenant: 'own_data',
  },
  {
    method: 'DELETE',
    route: '/v1/auth/sessions',
    path: () => '/v1/auth/sessions?keep_current=true',
    permission: null,
    userOnly: true,
    otherTenant: 'own_data',
  },
  {
    method: 'DELETE',
    route: '/v1/auth/sessions/:id',
    path: (a) => `/v1/auth/sessions/${a.sessionId}`,
    permission: null,
    userOnly: true,
    otherTenant: 'not_found',
  },
  // Members.
  {
    method: 'GET',
    route: '/v1/members',
    path: () => '/v1/members',
    permission: 'content:read',
    userOnly: true,
    otherTenant: 'own_data',
  },
  {
    method: 'PATCH',
    route: '/v1/members/:user_id',
    path: (a) => `/v1/members/${a.targetId}`,
    body: () => ({ role: 'author' }),
    permission: 'members:manage',
    userOnly: true,
    otherTenant: 'not_found',
  },
  {
    method: 'DELETE',
    route: '/v1/members/:user_id',
    path: (a) => `/v1/members/${a.targetId}`,
    permission: 'members:manage',
    userOnly: true,
    otherTenant: 'not_found',
  },
  // Invitations.
  {
    method: 'POST',
    route: '/v1/invitations',
    path: () => '/v1/invitations',
    body: () => ({ email: `guest-${crypto.randomUUID().slice(0, 8)}@example.com`, role: 'viewer' }),
    permission: 'members:manage',
    userOnly: true,
    otherTenant: 'own_data',
  },
  {
    method: 'GET',
    route: '/v1/invitations',
    path: () => '/v1/invitations',
    permission: 'members:manage',
    userOnly: true,
    otherTenant: 'own_data',
  },
  {
    method: 'DELETE',
    route: '/v1/invitations/:id',
    path: (a) => `/v1/invitations/${a.invitationId}`,
    permission: 'members:manage',
    userOnly: true,
    otherTenant: 'not_found',
  },
  // API keys.
  {
    method: 'POST',
    route: '/v1/keys',
    path: () => '/v1/keys',
    body: () => ({ name: 'isolation', scopes: ['content:read'] }),
    permission: 'keys:manage',
    otherTenant: 'own_data',
  },
  {
    method: 'GET',
    route: '/v1/keys',
    path: () => '/v1/keys',
    permission: 'keys:manage',
    otherTenant: 'own_data',
  },
  {
    method: 'GET',
    route: '/v1/keys/:id',
    path: (a) => `/v1/keys/${a.keyId}`,
    permission: 'keys:manage',
    otherTenant: 'not_found',
  },
  {
    method: 'POST',
    route: '/v1/keys/:id/roll',
    path: (a) => `/v1/keys/${a.keyId}/roll`,
    body: () => ({ grace_seconds: 60 }),
    permission: 'keys:manage',
    otherTenant: 'not_found',
  },
  {
    method: 'DELETE',
    route: '/v1/keys/:id',
    path: (a) => `/v1/keys/${a.keyId}`,
    permission: 'keys:manage',
    otherTenant: 'not_found',
  },
  // Audit log.
  {
    method: 'GET',
    route: '/v1/audit-log',
    path: () => '/v1/audit-log',
    permission: 'audit:read',
    otherTenant: 'own_data',
  },
  // Operations.
  {
    method: 'GET',
    route: '/v1/operations/:id',
    path: (a) => `/v1/operations/${a.operationId}`,
    permission: 'content:read',
    otherTenant: 'not_found',
  },
  // Content reads.
  {
    method: 'GET',
    route: '/v1/content/:id',
    path: (a) => `/v1/content/${a.contentId}`,
    permission: 'content:read',
    otherTenant: 'not_found',
  },
  {
    method: 'GET',
    route: '/v1/content/by-slug/:locale/:slug',
    path: (a) => `/v1/content/by-slug/en/${a.contentSlug}`,
    permission: 'content:read',
    otherTenant: 'not_found',
  },
  // Content list.
  {
    method: 'GET',
    route: '/v1/content',
    path: () => '/v1/content',
    permission: 'content:read',
    otherTenant: 'own_data',
  },
  // Content writes.
  {
    method: 'POST',
    route: '/v1/content',
    path: () => '/v1/content',
    body: () => ({ translations: { en: { title: 'Isolation suite' } } }),
    permission: 'content:write',
    otherTenant: 'own_data',
  },
  {
    method: 'PUT',
    route: '/v1/content/:id',
    path: (a) => `/v1/content/${a.contentId}`,
    body: () => ({ translations: { en: { title: 'Replaced by an outsider' } } }),
    permission: 'content:write',
    otherTenant: 'not_found',
  },
  {
    method: 'PATCH',
    route: '/v1/content/:id',
    path: (a) => `/v1/content/${a.contentId}`,
    body: () => ({ tags: ['outsider'] }),
    permission: 'content:write',
    otherTenant: 'not_found',
  },
  {
    method: 'DELETE',
    route: '/v1/content/:id',
    path: (a) => `/v1/content/${a.contentId}`,
    permission: 'content:delete',
    otherTenant: 'not_found',
  },
  {
    method: 'POST',
    route: '/v1/content/:id/restore',
    path: (a) => `/v1/content/${a.contentId}/restore`,
    permission: 'content:delete',
    otherTenant: 'not_found',
  },
  {
    method: 'POST',
    route: '/v1/content/:id/transitions',
    path: (a) => `/v1/content/${a.contentId}/transitions`,
    body: () => ({ action: 'submit' }),
    permission: 'content:write',
    otherTenant: 'not_found',
  },
  {
    method: 'POST',
    route: '/v1/content/bulk',
    path: () => '/v1/content/bulk',
    body: () => ({ items: [{ op: 'create', data: { translations: { en: { title: 'Bulk' } } } }] }),
    permission: 'content:write',
    otherTenant: 'own_data',
  },
  // Content versions.
  {
    method: 'GET',
    route: '/v1/content/:id/versions',
    path: (a) => `/v1/content/${a.contentId}/versions`,
    permission: 'content:read',
    otherTenant: 'not_found',
  },
  {
    method: 'GET',
    route: '/v1/content/:id/versions/:version',
    path: (a) => `/v1/content/${a.contentId}/versions/1`,
    permission: 'content:read',
    otherTenant: 'not_found',
  },
  {
    method: 'GET',
    route: '/v1/content/:id/diff',
    path: (a) => `/v1/content/${a.contentId}/diff?from=1&to=1`,
    permission: 'content:read',
    otherTenant: 'not_found',
  },
  {
    method: 'POST',
    route: '/v1/content/:id/versions/:version/restore',
    path: (a) => `/v1/content/${a.contentId}/versions/1/restore`,
    permission: 'content:write',
    otherTenant: 'not_found',
  },
  // Search: organisation B's searches answer from B's index (its namespace, its rows).
  {
    method: 'GET',
    route: '/v1/search',
    path: () => `/v1/search?q=${encodeURIComponent(SEARCH_QUERY)}`,
    permission: 'search',
    otherTenant: 'own_data',
  },
  {
    method: 'POST',
    route: '/v1/search',
    path: () => '/v1/search',
    body: () => ({ q: SEARCH_QUERY }),
    permission: 'search',
    otherTenant: 'own_data',
  },
  // Clicks are recorded under the caller's organisation only (ids are not looked up).
  {
    method: 'POST',
    route: '/v1/search/clicks',
    path: () => '/v1/search/clicks',
    body: (a) => ({
      query_id: 'qry_01jd5x3k7yf0v9r2m4q6s8t1wz',
      content_id: a.contentId,
      position: 1,
    }),
    permission: 'search',
    otherTenant: 'own_data',
  },
  // Neighbours of organisation A's item: another organisation's caller gets a 404.
  {
    method: 'GET',
    route: '/v1/content/:id/similar',
    path: (a) => `/v1/content/${a.contentId}/similar`,
    permission: 'content:read',
    otherTenant: 'not_found',
  },
  // Recommendations: the caller's organisation's items and events only.
  {
    method: 'GET',
    route: '/v1/recommendations',
    path: () => '/v1/recommendations',
    permission: 'content:read',
    otherTenant: 'own_data',
  },
  // Trending: the caller's organisation's items only.
  {
    method: 'GET',
    route: '/v1/trending',
    path: () => '/v1/trending',
    permission: 'content:read',
    otherTenant: 'own_data',
  },
  {
    method: 'GET',
    route: '/v1/trending/facets',
    path: () => '/v1/trending/facets',
    permission: 'content:read',
    otherTenant: 'own_data',
  },
  // Trends: the caller's organisation's topics; another organisation's topic is a 404.
  {
    method: 'GET',
    route: '/v1/trends',
    path: () => '/v1/trends',
    permission: 'content:read',
    otherTenant: 'own_data',
  },
  {
    method: 'GET',
    route: '/v1/trends/:id',
    path: (a) => `/v1/trends/${a.topicId}`,
    permission: 'content:read',
    otherTenant: 'not_found',
  },
  // Documents: uploads go to the caller's organisation; ids of another's are 404.
  {
    method: 'POST',
    route: '/v1/documents',
    path: () => '/v1/documents?file_name=isolation.md',
    upload: () => ({
      contentType: 'text/markdown',
      bytes: new TextEncoder().encode(`# Isolation upload ${crypto.randomUUID()}\n`),
    }),
    permission: 'documents:write',
    otherTenant: 'own_data',
  },
  {
    method: 'GET',
    route: '/v1/documents',
    path: () => '/v1/documents',
    permission: 'documents:read',
    otherTenant: 'own_data',
  },
  {
    method: 'GET',
    route: '/v1/documents/:id',
    path: (a) => `/v1/documents/${a.documentId}`,
    permission: 'documents:read',
    otherTenant: 'not_found',
  },
  {
    method: 'GET',
    route: '/v1/documents/:id/original',
    path: (a) => `/v1/documents/${a.documentId}/original`,
    permission: 'documents:read',
    otherTenant: 'not_found',
  },
  {
    method: 'GET',
    route: '/v1/documents/:id/text',
    path: (a) => `/v1/documents/${a.documentId}/text`,
    permission: 'documents:read',
    otherTenant: 'not_found',
  },
  {
    method: 'POST',
    route: '/v1/documents/:id/reprocess',
    path: (a) => `/v1/documents/${a.documentId}/reprocess`,
    permission: 'documents:write',
    otherTenant: 'not_found',
  },
  {
    method: 'PATCH',
    route: '/v1/documents/:id',
    path: (a) => `/v1/documents/${a.documentId}`,
    body: () => ({ title: 'Renamed by an outsider', visibility: 'private' }),
    permission: 'documents:write',
    otherTenant: 'not_found',
  },
  {
    method: 'DELETE',
    route: '/v1/documents/:id',
    path: (a) => `/v1/documents/${a.documentId}`,
    permission: 'documents:write',
    otherTenant: 'not_found',
  },
  // Questions: answered from the caller's own organisation's documents only.
  {
    method: 'POST',
    route: '/v1/ask',
    path: () => '/v1/ask',
    body: () => ({ question: `What colour is the ${SEARCH_QUERY}?` }),
    permission: 'documents:read',
    otherTenant: 'own_data',
  },
  // Engagement events: recorded under the caller's organisation only (ids are not looked up).
  {
    method: 'POST',
    route: '/v1/events',
    path: () => '/v1/events',
    body: (a) => ({
      events: [
        {
          event_id: `isolation-${crypto.randomUUID()}`,
          type: 'content.viewed',
          content_id: a.contentId,
          occurred_at: new Date().toISOString(),
          anonymous_id: 'isolation-reader',
        },
      ],
    }),
    permission: 'events:write',
    otherTenant: 'own_data',
  },
  // Analytics: the caller's organisation's figures.
  {
    method: 'GET',
    route: '/v1/analytics/search',
    path: () => '/v1/analytics/search',
    permission: 'analytics:read',
    otherTenant: 'own_data',
  },
  {
    method: 'POST',
    route: '/v1/search/reindex',
    path: () => '/v1/search/reindex',
    permission: 'settings:manage',
    otherTenant: 'own_data',
    alsoAnswers: [409],
  },
  // Feature flags.
  {
    method: 'GET',
    route: '/v1/flags',
    path: () => '/v1/flags',
    permission: 'flags:manage',
    orPermission: 'settings:manage',
    otherTenant: 'own_data',
  },
  {
    method: 'POST',
    route: '/v1/flags',
    path: () => `/v1/flags`,
    body: () => ({
      key: `isolation-${crypto.randomUUID().slice(0, 8)}`,
      type: 'boolean',
      variants: [
        { key: 'on', value: true },
        { key: 'off', value: false },
      ],
      default_variant: 'off',
    }),
    permission: 'flags:manage',
    otherTenant: 'own_data',
  },
  {
    method: 'POST',
    route: '/v1/flags/evaluate',
    path: () => '/v1/flags/evaluate',
    body: () => ({ context: { targetingKey: 'isolation-user' } }),
    permission: 'flags:evaluate',
    otherTenant: 'own_data',
  },
  {
    method: 'GET',
    route: '/v1/flags/:key',
    path: (a) => `/v1/flags/${a.flagKey}`,
    permission: 'flags:manage',
    orPermission: 'settings:manage',
    otherTenant: 'not_found',
  },
  {
    method: 'PATCH',
    route: '/v1/flags/:key',
    path: (a) => `/v1/flags/${a.flagKey}`,
    body: () => ({ kill_switch: true }),
    permission: 'flags:manage',
    otherTenant: 'not_found',
  },
  {
    method: 'POST',
    route: '/v1/flags/:key/archive',
    path: (a) => `/v1/flags/${a.flagKey}/archive`,
    permission: 'flags:manage',
    otherTenant: 'not_found',
  },
  // Experiments: B lists and creates its own; A's experiment is not found.
  {
    method: 'GET',
    route: '/v1/experiments',
    path: () => '/v1/experiments',
    permission: 'settings:manage',
    otherTenant: 'own_data',
  },
  {
    method: 'POST',
    route: '/v1/experiments',
    path: () => '/v1/experiments',
    body: () => ({
      key: `isolation-${crypto.randomUUID().slice(0, 8)}`,
      surface: 'search',
      variants: [
        { key: 'control', weight: 50 },
        { key: 'fresher', weight: 50, settings: { freshness_half_life_days: 7 } },
      ],
      primary_metric: 'click_through_rate',
    }),
    permission: 'settings:manage',
    otherTenant: 'own_data',
  },
  {
    method: 'GET',
    route: '/v1/experiments/:id',
    path: (a) => `/v1/experiments/${a.experimentId}`,
    permission: 'settings:manage',
    otherTenant: 'not_found',
  },
  {
    method: 'DELETE',
    route: '/v1/experiments/:id',
    path: (a) => `/v1/experiments/${a.experimentId}`,
    permission: 'settings:manage',
    otherTenant: 'not_found',
  },
  ...(['start', 'pause', 'stop', 'promote'] as const).map(
    (action): ProtectedRoute => ({
      method: 'POST',
      route: `/v1/experiments/:id/${action}`,
      path: (a) => `/v1/experiments/${a.experimentId}/${action}`,
      ...(action === 'promote' ? { body: () => ({}) } : {}),
      permission: 'settings:manage',
      otherTenant: 'not_found',
    }),
  ),
  {
    method: 'GET',
    route: '/v1/experiments/:id/results',
    path: (a) => `/v1/experiments/${a.experimentId}/results`,
    permission: 'settings:manage',
    otherTenant: 'not_found',
  },
  // The recommendation blend: each organisation reads and writes its own.
  {
    method: 'GET',
    route: '/v1/recommendations/settings',
    path: () => '/v1/recommendations/settings',
    permission: 'content:read',
    otherTenant: 'own_data',
  },
  {
    method: 'PUT',
    route: '/v1/recommendations/settings',
    path: () => '/v1/recommendations/settings',
    body: () => ({}),
    permission: 'settings:manage',
    otherTenant: 'own_data',
  },
  // OpenFeature Remote Evaluation Protocol: B evaluates its own flags; A's key is not found.
  {
    method: 'POST',
    route: '/ofrep/v1/evaluate/flags',
    path: () => '/ofrep/v1/evaluate/flags',
    body: () => ({ context: { targetingKey: 'isolation-user' } }),
    permission: 'flags:evaluate',
    otherTenant: 'own_data',
  },
  {
    method: 'POST',
    route: '/ofrep/v1/evaluate/flags/:key',
    path: (a) => `/ofrep/v1/evaluate/flags/${a.flagKey}`,
    body: () => ({ context: { targetingKey: 'isolation-user' } }),
    permission: 'flags:evaluate',
    // OFREP's own 404 (`FLAG_NOT_FOUND`, not a problem): B has no flag of that key.
    otherTenant: 'own_data',
    alsoAnswers: [404],
  },
  // Search synonyms.
  {
    method: 'GET',
    route: '/v1/search/synonyms',
    path: () => '/v1/search/synonyms',
    permission: 'search',
    otherTenant: 'own_data',
  },
  {
    method: 'POST',
    route: '/v1/search/synonyms',
    path: () => '/v1/search/synonyms',
    body: () => ({ locale: 'en', kind: 'multi_way', terms: ['isolation', 'outsider'] }),
    permission: 'settings:manage',
    otherTenant: 'own_data',
  },
  {
    method: 'GET',
    route: '/v1/search/synonyms/:id',
    path: (a) => `/v1/search/synonyms/${a.synonymId}`,
    permission: 'search',
    otherTenant: 'not_found',
  },
  {
    method: 'PUT',
    route: '/v1/search/synonyms/:id',
    path: (a) => `/v1/search/synonyms/${a.synonymId}`,
    body: () => ({ locale: 'en', kind: 'multi_way', terms: ['isolation', 'outsider'] }),
    permission: 'settings:manage',
    otherTenant: 'not_found',
  },
  {
    method: 'DELETE',
    route: '/v1/search/synonyms/:id',
    path: (a) => `/v1/search/synonyms/${a.synonymId}`,
    permission: 'settings:manage',
    otherTenant: 'not_found',
  },
  // Inbound webhook sources and feed sources.
  {
    method: 'GET',
    route: '/v1/webhooks/sources',
    path: () => '/v1/webhooks/sources',
    permission: 'settings:manage',
    otherTenant: 'own_data',
  },
  {
    method: 'POST',
    route: '/v1/webhooks/sources',
    path: () => '/v1/webhooks/sources',
    body: () => ({
      name: 'Isolation outsider',
      kind: 'standard',
      mapping: { external_id: '/id', title: '/title' },
    }),
    permission: 'settings:manage',
    otherTenant: 'own_data',
  },
  {
    method: 'GET',
    route: '/v1/webhooks/sources/:id',
    path: (a) => `/v1/webhooks/sources/${a.webhookSourceId}`,
    permission: 'settings:manage',
    otherTenant: 'not_found',
  },
  {
    method: 'PATCH',
    route: '/v1/webhooks/sources/:id',
    path: (a) => `/v1/webhooks/sources/${a.webhookSourceId}`,
    body: () => ({ name: 'Taken over', enabled: false }),
    permission: 'settings:manage',
    otherTenant: 'not_found',
  },
  {
    method: 'DELETE',
    route: '/v1/webhooks/sources/:id',
    path: (a) => `/v1/webhooks/sources/${a.webhookSourceId}`,
    permission: 'settings:manage',
    otherTenant: 'not_found',
  },
  {
    method: 'POST',
    route: '/v1/webhooks/sources/:id/rotate-secret',
    path: (a) => `/v1/webhooks/sources/${a.webhookSourceId}/rotate-secret`,
    body: () => ({ grace_seconds: 0 }),
    permission: 'settings:manage',
    otherTenant: 'not_found',
  },
  {
    method: 'GET',
    route: '/v1/webhooks/sources/:id/deliveries',
    path: (a) => `/v1/webhooks/sources/${a.webhookSourceId}/deliveries`,
    permission: 'settings:manage',
    otherTenant: 'not_found',
  },
  {
    method: 'POST',
    route: '/v1/webhooks/sources/:id/poll',
    path: (a) => `/v1/webhooks/sources/${a.webhookSourceId}/poll`,
    permission: 'settings:manage',
    otherTenant: 'not_found',
  },
  // Real-time channels: an organisation's own channels only.
  {
    method: 'POST',
    route: '/v1/realtime/tickets',
    path: () => '/v1/realtime/tickets',
    body: (a) => ({ channels: [`org:${a.orgId}`, `content:${a.contentId}`] }),
    permission: 'content:read',
    otherTenant: 'not_found',
  },
  {
    method: 'GET',
    route: '/v1/realtime/channels/:channel/presence',
    path: (a) => `/v1/realtime/channels/${encodeURIComponent(`org:${a.orgId}`)}/presence`,
    permission: 'content:read',
    otherTenant: 'not_found',
  },
  // Outbound webhook endpoints and their deliveries.
  {
    method: 'GET',
    route: '/v1/webhooks/endpoints',
    path: () => '/v1/webhooks/endpoints',
    permission: 'webhooks:manage',
    otherTenant: 'own_data',
  },
  {
    method: 'POST',
    route: '/v1/webhooks/endpoints',
    path: () => '/v1/webhooks/endpoints',
    body: () => ({ url: 'https://hooks.example.com/outsider' }),
    permission: 'webhooks:manage',
    otherTenant: 'own_data',
  },
  {
    method: 'GET',
    route: '/v1/webhooks/endpoints/:id',
    path: (a) => `/v1/webhooks/endpoints/${a.webhookEndpointId}`,
    permission: 'webhooks:manage',
    otherTenant: 'not_found',
  },
  {
    method: 'PATCH',
    route: '/v1/webhooks/endpoints/:id',
    path: (a) => `/v1/webhooks/endpoints/${a.webhookEndpointId}`,
    body: () => ({ url: 'https://attacker.example.com/taken' }),
    permission: 'webhooks:manage',
    otherTenant: 'not_found',
  },
  {
    method: 'DELETE',
    route: '/v1/webhooks/endpoints/:id',
    path: (a) => `/v1/webhooks/endpoints/${a.webhookEndpointId}`,
    permission: 'webhooks:manage',
    otherTenant: 'not_found',
  },
  {
    method: 'POST',
    route: '/v1/webhooks/endpoints/:id/disable',
    path: (a) => `/v1/webhooks/endpoints/${a.webhookEndpointId}/disable`,
    permission: 'webhooks:manage',
    otherTenant: 'not_found',
  },
  {
    method: 'POST',
    route: '/v1/webhooks/endpoints/:id/enable',
    path: (a) => `/v1/webhooks/endpoints/${a.webhookEndpointId}/enable`,
    permission: 'webhooks:manage',
    otherTenant: 'not_found',
  },
  {
    method: 'POST',
    route: '/v1/webhooks/endpoints/:id/rotate-secret',
    path: (a) => `/v1/webhooks/endpoints/${a.webhookEndpointId}/rotate-secret`,
    body: () => ({ grace_seconds: 0 }),
    permission: 'webhooks:manage',
    otherTenant: 'not_found',
  },
  {
    method: 'POST',
    route: '/v1/webhooks/endpoints/:id/test',
    path: (a) => `/v1/webhooks/endpoints/${a.webhookEndpointId}/test`,
    body: () => ({ data: { from: 'outsider' } }),
    permission: 'webhooks:manage',
    otherTenant: 'not_found',
  },
  {
    method: 'GET',
    route: '/v1/webhooks/endpoints/:id/deliveries',
    path: (a) => `/v1/webhooks/endpoints/${a.webhookEndpointId}/deliveries`,
    permission: 'webhooks:manage',
    otherTenant: 'not_found',
  },
  {
    method: 'GET',
    route: '/v1/webhooks/endpoints/:id/deliveries/:delivery_id',
    path: (a) => `/v1/webhooks/endpoints/${a.webhookEndpointId}/deliveries/${a.webhookDeliveryId}`,
    permission: 'webhooks:manage',
    otherTenant: 'not_found',
  },
  {
    method: 'POST',
    route: '/v1/webhooks/endpoints/:id/deliveries/:delivery_id/replay',
    path: (a) =>
      `/v1/webhooks/endpoints/${a.webhookEndpointId}/deliveries/${a.webhookDeliveryId}/replay`,
    permission: 'webhooks:manage',
    otherTenant: 'not_found',
  },
  {
    method: 'POST',
    route: '/v1/webhooks/endpoints/:id/recover',
    path: (a) => `/v1/webhooks/endpoints/${a.webhookEndpointId}/recover`,
    body: () => ({ since: new Date(Date.now() - 86_400_000).toISOString() }),
    permission: 'webhooks:manage',
    otherTenant: 'not_found',
  },
  // Search ranking settings: each organisation reads and writes its own.
  {
    method: 'GET',
    route: '/v1/search/settings',
    path: () => '/v1/search/settings',
    permission: 'search',
    otherTenant: 'own_data',
  },
  {
    method: 'PUT',
    route: '/v1/search/settings',
    path: () => '/v1/search/settings',
    body: () => ({}),
    permission: 'settings:manage',
    otherTenant: 'own_data',
  },
  // AI settings and usage: each organisation reads and writes its own.
  {
    method: 'GET',
    route: '/v1/ai/settings',
    path: () => '/v1/ai/settings',
    permission: 'settings:manage',
    otherTenant: 'own_data',
  },
  {
    method: 'PUT',
    route: '/v1/ai/settings',
    path: () => '/v1/ai/settings',
    body: () => ({}),
    permission: 'settings:manage',
    otherTenant: 'own_data',
  },
  {
    method: 'GET',
    route: '/v1/ai/usage',
    path: () => '/v1/ai/usage',
    permission: 'settings:manage',
    otherTenant: 'own_data',
  },
  // Platform administration.
  {
    method: 'GET',
    route: '/v1/admin/access-rules',
    path: () => '/v1/admin/access-rules',
    permission: 'admin',
    userOnly: true,
    otherTenant: 'forbidden',
  },
  {
    method: 'POST',
    route: '/v1/admin/access-rules',
    path: () => '/v1/admin/access-rules',
    body: () => ({
      list: 'deny',
      subject_type: 'ip',
      value: '192.0.2.77',
      reason: 'isolation suite',
    }),
    permission: 'admin',
    userOnly: true,
    otherTenant: 'forbidden',
  },
  {
    method: 'DELETE',
    route: '/v1/admin/access-rules/:id',
    path: (a) => `/v1/admin/access-rules/${a.accessRuleId}`,
    permission: 'admin',
    userOnly: true,
    otherTenant: 'forbidden',
  },
  {
    method: 'PATCH',
    route: '/v1/admin/users/:user_id',
    path: (a) => `/v1/admin/users/${a.targetId}`,
    body: () => ({ disabled: true }),
    permission: 'admin',
    userOnly: true,
    otherTenant: 'forbidden',
  },
];

/** `/v1` routes anyone may call, with why. */
export const PUBLIC_ROUTES: Record<string, string> = {
  'POST /v1/auth/signup': 'creates an account',
  'POST /v1/auth/login': 'exchanges a password for tokens',
  'POST /v1/auth/refresh': 'exchanges a refresh token for tokens',
  'POST /v1/invitations/accept': 'the invitation token is the credential',
  'GET /v1/whoami': 'describes whatever credentials come with it, including none',
  'GET /v1/realtime/connect': 'the real-time ticket is the credential',
};
