import { DurableObject } from 'cloudflare:workers';
import type { BulkRecord, BulkState } from '../shared/content/bulk.ts';
import { foldSlug, inSlugFamily, type SlugFamily, type SlugOwner } from '../shared/content/slug.ts';
import type { WriteAction } from '../shared/content/writes.ts';
import type { ContentSnapshot } from '../shared/db/schema/content.ts';
import { isId } from '../shared/ids.ts';

const SECOND = 1_000;

/** A reservation the edge neither confirmed nor released is released after this. */
export const RESERVATION_TTL_MS = 15 * SECOND;
/** How long `reserve` waits for another request's reservation of the same item to settle. */
export const RESERVE_WAIT_MS = 5 * SECOND;

/** One change the edge wants to make: `snapshot` is the item at `base + 1`. */
export type LedgerWrite = {
  operation_id: string;
  action: WriteAction;
  /** The version the change was computed from; 0 for a new item. */
  base: number;
  snapshot: ContentSnapshot;
};

export type ReserveOutcome =
  | { ok: true }
  /** The item is at another version than `base` now; `current` is its head (null: unknown). */
  | { ok: false; reason: 'conflict'; current: ContentSnapshot | null }
  /** Another live item of the organisation has (or is being given) this slug. */
  | { ok: false; reason: 'slug_taken'; locale: string; slug: string }
  /** Another request still holds the item after `RESERVE_WAIT_MS`. */
  | { ok: false; reason: 'busy' };

export type Reservation = {
  /** Settle it with {@link ContentLedger.settle}; null when nothing was reserved. */
  token: string | null;
  /** One per write, in order. */
  outcomes: ReserveOutcome[];
};

/** A write the ledger accepted and the consumer has not yet reported persisted. */
export type PendingWrite = {
  operation_id: string;
  content_id: string;
  version: number;
  action: WriteAction;
  /** False while reserved (the queue send not yet confirmed). */
  sent: boolean;
  created_at: string;
};

type Held = { token: string; done: Promise<void>; release: () => void };
type Open = { writes: LedgerWrite[]; timer: ReturnType<typeof setTimeout> };

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS heads (
    id TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    snapshot TEXT NOT NULL
  );
  CREATE TABLE IF NOT EXISTS slugs (
    locale TEXT NOT NULL,
    slug TEXT NOT NULL,
    id TEXT NOT NULL,
    PRIMARY KEY (locale, slug)
  );
  CREATE INDEX IF NOT EXISTS slugs_id_idx ON slugs (id);
  CREATE TABLE IF NOT EXISTS pending (
    operation_id TEXT PRIMARY KEY,
    content_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    action TEXT NOT NULL,
    snapshot TEXT NOT NULL,
    sent INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE IF NOT EXISTS bulks (
    id TEXT PRIMARY KEY,
    children TEXT NOT NULL,
    total INTEGER NOT NULL,
    created_at INTEGER NOT NULL
  );
`;

/**
 * Columns added to `bulks` since it was first created (`ALTER TABLE` in the constructor when
 * missing): `detail`, the record's items as JSON; `state`, its final state once reached.
 */
const BULK_COLUMNS = ['detail', 'state'] as const;

/** How long a bulk request's record (its items' operation ids) is kept: 7 days. */
export const BULK_RETENTION_MS = 7 * 86_400 * SECOND;

/** A bulk request as the ledger keeps it: what became of each item, and its final state. */
export type StoredBulk = { record: BulkRecord; state: BulkState | null };

/** An organisation's ledger, as a Worker calls it (its Durable Object handle). */
export type Ledger = DurableObjectStub<ContentLedger>;

/** The ledger of organisation `orgId`. */
export function ledgerOf(
  env: { CONTENT_LEDGER: DurableObjectNamespace<ContentLedger> },
  orgId: string,
): Ledger {
  return env.CONTENT_LEDGER.get(env.CONTENT_LEDGER.idFromName(orgId));
}

/** Slugs are case-insensitive: claims and the `slugs` table hold them folded. */
const slugKey = (locale: string, slug: string) => `${locale}\u0000${foldSlug(slug)}`;

function liveSlugs(snapshot: ContentSnapshot): [string, string][] {
  if (snapshot.deleted_at !== null) return [];
  return Object.entries(snapshot.translations).map(([locale, t]) => [locale, t.slug]);
}

/**
 * The version authority of one organisation's content (`env.CONTENT_LEDGER.idFromName(orgId)`).
 * The edge asks it for an item's head, computes the next snapshot, reserves `base + 1`, sends the
 * write to `WRITES`, then settles the reservation: confirmed (the head and the organisation's
 * slugs move on, and the write stays pending until the consumer reports it persisted) or
 * released (nothing happened). Two requests changing one item are serialised here, so a version
 * is never handed out twice, and it keeps working when Redis or Postgres is down: neither is
 * asked. An item the ledger has never seen is at whatever version the edge read from Postgres.
 *
 * Slug uniqueness is checked against every live item written through the ledger and every
 * reservation in flight; items older than the ledger are checked by the edge in Postgres, and
 * the consumer's unique index has the last word.
 */
export class ContentLedger extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private readonly held = new Map<string, Held>();
  private readonly claims = new Map<string, string>();
  private readonly open = new Map<string, Open>();
  /** The slug claims of each open reservation, dropped when it settles. */
  private readonly claimsOf = new Map<string, Set<string>>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    void ctx.blockConcurrencyWhile(async () => {
      this.sql.exec(SCHEMA);
      const columns = new Set(
        this.sql
          .exec<{ name: string }>('SELECT name FROM pragma_table_info(?)', 'bulks')
          .toArray()
          .map((c) => c.name),
      );
      for (const column of BULK_COLUMNS) {
        if (!columns.has(column)) this.sql.exec(`ALTER TABLE bulks ADD COLUMN ${column} TEXT`);
      }
      // Records from before items were kept cannot say which item was which. They are at most
      // a week old and only bookkeeping (each item's own operation still answers): dropped.
      if (!columns.has('detail')) this.sql.exec('DELETE FROM bulks');
    });
  }

  /** The heads (latest accepted snapshots, deleted ones included) of the items it knows. */
  heads(ids: string[]): Record<string, ContentSnapshot> {
    const out: Record<string, ContentSnapshot> = {};
    for (const id of new Set(ids)) {
      const head = this.head(id);
      if (head) out[id] = head;
    }
    return out;
  }

  /**
   * Reserves each write's version: it waits (up to {@link RESERVE_WAIT_MS}) for other
   * reservations of the same items, then checks each write's base against the head and its slugs
   * against the organisation's, in order (a bulk request's items see each other). Writes that
   * pass are held until {@link settle}; the others say why not.
   */
  async reserve(writes: LedgerWrite[]): Promise<Reservation> {
    for (const write of writes) {
      if (write.snapshot.version !== write.base + 1) {
        throw new Error(`reserve: ${write.snapshot.id} must be at version base + 1`);
      }
    }
    const ids = [...new Set(writes.map((w) => w.snapshot.id))];
    const deadline = Date.now() + RESERVE_WAIT_MS;
    for (;;) {
      const waits = ids.flatMap((id) => this.held.get(id)?.done ?? []);
      if (waits.length === 0 || Date.now() >= deadline) break;
      await Promise.race([
        Promise.all(waits),
        new Promise((resolve) => setTimeout(resolve, deadline - Date.now())),
      ]);
    }

    // From here to the end everything is synchronous: no other call interleaves.
    const token = crypto.randomUUID();
    const accepted: LedgerWrite[] = [];
    const claimed = new Set<string>();
    const outcomes = writes.map((write): ReserveOutcome => {
      const id = write.snapshot.id;
      if (this.held.has(id) && this.held.get(id)!.token !== token)
        return { ok: false, reason: 'busy' };
      const head = this.head(id);
      const current = accepted.findLast((w) => w.snapshot.id === id)?.snapshot ?? head;
      // An item the ledger has never seen is at the version the edge read from Postgres.
      if (current !== undefined && current.version !== write.base) {
        return { ok: false, reason: 'conflict', current: current ?? null };
      }
      for (const [locale, slug] of liveSlugs(write.snapshot)) {
        const key = slugKey(locale, slug);
        const owner = this.claims.get(key) ?? this.slugOwner(locale, slug);
        if (owner !== undefined && owner !== id)
          return { ok: false, reason: 'slug_taken', locale, slug };
      }
      for (const [locale, slug] of liveSlugs(write.snapshot)) {
        const key = slugKey(locale, slug);
        this.claims.set(key, id);
        claimed.add(key);
      }
      accepted.push(write);
      if (!this.held.has(id)) {
        let release = () => {};
        const done = new Promise<void>((resolve) => {
          release = resolve;
        });
        this.held.set(id, { token, done, release });
      }
      return { ok: true };
    });
    if (accepted.length === 0) return { token: null, outcomes };

    const now = Date.now();
    this.ctx.storage.transactionSync(() => {
      for (const write of accepted) {
        this.sql.exec(
          `INSERT OR REPLACE INTO pending (operation_id, content_id, version, action, snapshot, sent, created_at)
           VALUES (?, ?, ?, ?, ?, 0, ?)`,
          write.operation_id,
          write.snapshot.id,
          write.snapshot.version,
          write.action,
          JSON.stringify(write.snapshot),
          now,
        );
      }
    });
    const timer = setTimeout(() => this.settle(token, []), RESERVATION_TTL_MS);
    this.open.set(token, { writes: accepted, timer });
    this.claimsOf.set(token, claimed);
    return { token, outcomes };
  }

  /**
   * Ends a reservation: the writes whose operation ids are in `sent` (the queue took them) become
   * heads, their slugs the items' slugs, and stay pending for the consumer; the rest are
   * forgotten. Settling twice, or after the reservation expired, does nothing.
   */
  settle(token: string, sent: string[]): { confirmed: number } {
    const open = this.open.get(token);
    if (!open) return { confirmed: 0 };
    clearTimeout(open.timer);
    this.open.delete(token);
    const confirmed = new Set(sent);
    let count = 0;
    this.ctx.storage.transactionSync(() => {
      for (const write of open.writes) {
        if (!confirmed.has(write.operation_id)) {
          this.sql.exec('DELETE FROM pending WHERE operation_id = ?', write.operation_id);
          continue;
        }
        count++;
        const s = write.snapshot;
        this.sql.exec(
          'INSERT OR REPLACE INTO heads (id, version, snapshot) VALUES (?, ?, ?)',
          s.id,
          s.version,
          JSON.stringify(s),
        );
        this.sql.exec('DELETE FROM slugs WHERE id = ?', s.id);
        for (const [locale, slug] of liveSlugs(s)) {
          this.sql.exec(
            'INSERT OR REPLACE INTO slugs (locale, slug, id) VALUES (?, ?, ?)',
            locale,
            foldSlug(slug),
            s.id,
          );
        }
        this.sql.exec('UPDATE pending SET sent = 1 WHERE operation_id = ?', write.operation_id);
      }
    });
    for (const key of this.claimsOf.get(token) ?? []) this.claims.delete(key);
    this.claimsOf.delete(token);
    for (const [id, held] of this.held) {
      if (held.token === token) {
        this.held.delete(id);
        held.release();
      }
    }
    return { confirmed: count };
  }

  /**
   * The slugs of the given families (`base`, `base-<digits>`) that the ledger knows are used:
   * by live items written through it, and by reservations in flight (which Postgres does not
   * know yet). Folded, with their items. The edge reads them with Postgres' in one round trip
   * to pick a free slug; {@link reserve} still has the last word.
   */
  slugFamilies(families: SlugFamily[]): SlugOwner[] {
    const found: SlugOwner[] = [];
    for (const { locale, base } of families) {
      const folded = foldSlug(base);
      // One range of the primary key (locale, slug): SQLite compares text by code point.
      const rows = this.sql.exec<{ slug: string; id: string }>(
        'SELECT slug, id FROM slugs WHERE locale = ? AND slug >= ? AND slug < ?',
        locale,
        folded,
        `${folded}.`,
      );
      for (const { slug, id } of rows) {
        if (inSlugFamily(slug, folded)) found.push({ id, locale, slug });
      }
      for (const [key, id] of this.claims) {
        const [claimLocale, slug = ''] = key.split('\u0000');
        if (claimLocale === locale && inSlugFamily(slug, folded)) found.push({ id, locale, slug });
      }
    }
    return found;
  }

  /** A write not yet reported persisted, by operation id (for `GET /v1/operations/{id}`). */
  pending(operationId: string): PendingWrite | null {
    const [row] = this.sql
      .exec<{
        operation_id: string;
        content_id: string;
        version: number;
        action: string;
        sent: number;
        created_at: number;
      }>(
        'SELECT operation_id, content_id, version, action, sent, created_at FROM pending WHERE operation_id = ?',
        operationId,
      )
      .toArray();
    if (!row) return null;
    return {
      operation_id: row.operation_id,
      content_id: row.content_id,
      version: row.version,
      action: row.action as WriteAction,
      sent: row.sent === 1,
      created_at: new Date(row.created_at).toISOString(),
    };
  }

  /** The snapshot of a pending write (a `content.write` message too large to carry it). */
  pendingSnapshot(operationId: string): ContentSnapshot | null {
    const [row] = this.sql
      .exec<{ snapshot: string }>(
        'SELECT snapshot FROM pending WHERE operation_id = ?',
        operationId,
      )
      .toArray();
    return row ? (JSON.parse(row.snapshot) as ContentSnapshot) : null;
  }

  /**
   * Records a bulk request (`GET /v1/operations/{id}` derives its state from it and its items'
   * operations); records older than {@link BULK_RETENTION_MS} are dropped on the way.
   */
  recordBulk(record: BulkRecord): void {
    const now = Date.parse(record.created_at);
    this.sql.exec('DELETE FROM bulks WHERE created_at < ?', Date.now() - BULK_RETENTION_MS);
    const { accepted, unchanged, refused } = record;
    this.sql.exec(
      'INSERT OR REPLACE INTO bulks (id, children, total, created_at, detail, state) VALUES (?, ?, ?, ?, ?, NULL)',
      record.id,
      JSON.stringify(accepted.map((a) => a.operation_id)),
      record.total,
      now,
      JSON.stringify({ accepted, unchanged, refused }),
    );
  }

  /** A bulk request's record and its final state (null until reached), or null. */
  bulk(id: string): StoredBulk | null {
    const [row] = this.sql
      .exec<{
        id: string;
        total: number;
        created_at: number;
        detail: string;
        state: string | null;
      }>('SELECT id, total, created_at, detail, state FROM bulks WHERE id = ?', id)
      .toArray();
    if (!row) return null;
    const created_at = new Date(row.created_at).toISOString();
    const detail = JSON.parse(row.detail) as Pick<BulkRecord, 'accepted' | 'unchanged' | 'refused'>;
    return {
      record: { id: row.id, total: row.total, created_at, ...detail },
      state: row.state === null ? null : (JSON.parse(row.state) as BulkState),
    };
  }

  /** Which of `ids` are bulk requests this ledger records. */
  bulkIds(ids: string[]): string[] {
    const found: string[] = [];
    for (let i = 0; i < ids.length; i += 100) {
      const chunk = ids.slice(i, i + 100);
      const rows = this.sql
        .exec<{ id: string }>(
          `SELECT id FROM bulks WHERE id IN (${chunk.map(() => '?').join(',')})`,
          ...chunk,
        )
        .toArray();
      found.push(...rows.map((row) => row.id));
    }
    return found;
  }

  /** Keeps a bulk request's final state, so that it reads the same ever after. */
  settleBulk(id: string, state: BulkState): void {
    this.sql.exec('UPDATE bulks SET state = ? WHERE id = ?', JSON.stringify(state), id);
  }

  /** How many of these operations are still pending (not yet reported persisted). */
  countPending(operationIds: string[]): number {
    let count = 0;
    for (let i = 0; i < operationIds.length; i += 100) {
      const chunk = operationIds.slice(i, i + 100);
      const [row] = this.sql
        .exec<{ n: number }>(
          `SELECT count(*) AS n FROM pending WHERE operation_id IN (${chunk.map(() => '?').join(',')})`,
          ...chunk,
        )
        .toArray();
      count += row?.n ?? 0;
    }
    return count;
  }

  /** The consumer recorded these operations in Postgres: forget them. */
  persisted(operationIds: string[]): void {
    for (const id of operationIds) {
      if (isId('operation', id)) this.sql.exec('DELETE FROM pending WHERE operation_id = ?', id);
    }
  }

  /**
   * The consumer could not persist these writes: their operations failed. Each is forgotten, and
   * so is an item whose head is the failed version (nothing accepted on top of it, nothing being
   * reserved, no earlier version still pending): the next write then learns the item from Postgres, as for an item the ledger has
   * never seen, and builds on what exists rather than on what failed (a failed create is gone).
   * Asking twice, or about a write already forgotten, changes nothing. Returns the items
   * forgotten, with the failed version each showed.
   */
  rejected(operationIds: string[]): { content_id: string; version: number }[] {
    const forgotten: { content_id: string; version: number }[] = [];
    this.ctx.storage.transactionSync(() => {
      for (const operationId of operationIds) {
        const [row] = this.sql
          .exec<{ content_id: string; version: number }>(
            'SELECT content_id, version FROM pending WHERE operation_id = ?',
            operationId,
          )
          .toArray();
        if (!row) continue;
        this.sql.exec('DELETE FROM pending WHERE operation_id = ?', operationId);
        const id = row.content_id;
        if (this.head(id)?.version !== row.version || this.held.has(id)) continue;
        // An earlier version still on its way to Postgres would be handed out again.
        const [other] = this.sql
          .exec('SELECT 1 FROM pending WHERE content_id = ? LIMIT 1', id)
          .toArray();
        if (other) continue;
        this.sql.exec('DELETE FROM heads WHERE id = ?', id);
        this.sql.exec('DELETE FROM slugs WHERE id = ?', id);
        forgotten.push({ content_id: id, version: row.version });
      }
    });
    return forgotten;
  }

  private head(id: string): ContentSnapshot | undefined {
    const [row] = this.sql
      .exec<{ snapshot: string }>('SELECT snapshot FROM heads WHERE id = ?', id)
      .toArray();
    return row ? (JSON.parse(row.snapshot) as ContentSnapshot) : undefined;
  }

  private slugOwner(locale: string, slug: string): string | undefined {
    const [row] = this.sql
      .exec<{ id: string }>(
        'SELECT id FROM slugs WHERE locale = ? AND slug = ?',
        locale,
        foldSlug(slug),
      )
      .toArray();
    return row?.id;
  }
}
