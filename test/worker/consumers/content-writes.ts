import type { WriteAction } from '../../../shared/content/writes.ts';
import type { ContentSnapshot } from '../../../shared/db/schema/index.ts';
import { newId } from '../../../shared/ids.ts';
import { envelope, type Origin } from '../../../shared/messages.ts';

/** A fixed clock for snapshots: 2025-01-01 12:<minute>Z. */
export const time = (minute: number) => new Date(Date.UTC(2025, 0, 1, 12, minute)).toISOString();

type Ids = { orgId: string; contentId: string };

/**
 * Snapshots and `content.write` envelopes of one test item, as the edge would send them. `ids`
 * is read on every call (tests give each case a fresh organisation and item); `translations`
 * gives a version's text, `origin` the request the messages claim to come from.
 */
export function contentWrites(
  ids: () => Ids,
  options: {
    translations: (version: number, contentId: string) => ContentSnapshot['translations'];
    origin: Omit<Origin, 'orgId'>;
  },
) {
  function snapshot(version: number, changes: Partial<ContentSnapshot> = {}): ContentSnapshot {
    const { orgId, contentId } = ids();
    return {
      id: contentId,
      org_id: orgId,
      status: 'draft',
      version,
      category_id: null,
      tags: ['news'],
      metadata: { v: version },
      default_locale: 'en',
      publish_at: null,
      unpublish_at: null,
      published_at: null,
      created_by: null,
      updated_by: null,
      created_at: time(0),
      updated_at: time(version),
      deleted_at: null,
      translations: options.translations(version, contentId),
      ...changes,
    };
  }

  /** One message; `snapshot: null` sends it without its snapshot (a too-large one). */
  function write(
    version: number,
    opts: {
      action?: WriteAction;
      snapshot?: ContentSnapshot | null;
      operationId?: string;
      /** Who made it (an actor reference); default null. */
      actorId?: string | null;
    } = {},
  ) {
    const { orgId, contentId } = ids();
    const operationId = opts.operationId ?? newId('operation');
    return {
      operationId,
      body: envelope(
        'content.write',
        {
          operation_id: operationId,
          org_id: orgId,
          content_id: contentId,
          version,
          action: opts.action ?? (version === 1 ? 'create' : 'update'),
          snapshot: opts.snapshot === undefined ? snapshot(version) : opts.snapshot,
          actor_id: opts.actorId ?? null,
          occurred_at: time(version),
        },
        { ...options.origin, orgId },
      ),
    };
  }

  return { snapshot, write };
}
