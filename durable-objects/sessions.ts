import { DurableObject } from 'cloudflare:workers';
import { deviceLabel } from '../shared/auth/device.ts';
import { timingSafeEqual } from '../shared/auth/passwords.ts';
import {
  hashRefreshToken,
  newRefreshToken,
  parseRefreshToken,
} from '../shared/auth/refresh-tokens.ts';
import { ipOrNull, SESSION_EVENT, type SessionEvent } from '../shared/auth/session-events.ts';
import type { SessionEventKind } from '../shared/db/schema/auth.ts';
import { isId, newId } from '../shared/ids.ts';
import { createLogger } from '../shared/logger.ts';
import { envelope } from '../shared/messages.ts';

const SECOND = 1_000;
const DAY = 86_400 * SECOND;

/** A session ends 30 days after sign-in, however active it is. */
export const SESSION_ABSOLUTE_TTL_MS = 30 * DAY;
/** ...and after 14 days without a refresh (or a live-session check). */
export const SESSION_IDLE_TTL_MS = 14 * DAY;
/**
 * How long after its rotation a refresh token still counts as a concurrent race rather than
 * reuse. Two tabs (or a retried request) refreshing with the same token at once is normal: the
 * first one wins and gets the next token, the others get `raced` and the family lives on, so the
 * winner is not signed out by its own sibling. A token replayed later than this can only be a
 * copy (a stolen token, or a client that lost the rotation), and then the whole family is
 * revoked (RFC 9700 4.14.2). The window is short enough that an attacker holding a stolen
 * token cannot wait for the victim's next refresh and slip in within it.
 */
export const REUSE_LEEWAY_MS = 5 * SECOND;
/**
 * Rotated hashes kept per session for reuse detection (the newest). A session refreshing every
 * 15 minutes for 30 days rotates ~2,900 times; older tokens than these fall out and are then
 * merely `unknown`, which bounds the object's storage while keeping every token of the last
 * ~16 hours of activity recognisable as reuse.
 */
export const MAX_ROTATED_PER_SESSION = 64;
/** Live sessions per user; signing in beyond this ends the least recently used one. */
export const MAX_LIVE_SESSIONS = 50;
/** An ended session's row outlives its end by at least this (see `alarm`). */
const ENDED_RETENTION_MS = DAY;
/** `isLive` refreshes `last_seen_at` at most this often (it runs on every sensitive request). */
const TOUCH_INTERVAL_MS = 60 * SECOND;
/** Outbox messages per `sendBatch` (the Queues limit is 100). */
const OUTBOX_BATCH = 100;
/** Longest wait before retrying an outbox that the queue refused. */
const MAX_FLUSH_BACKOFF_MS = 5 * 60 * SECOND;
/** Real-time channels one alarm closes an ended session's connections on, at most. */
const REALTIME_CLOSE_BATCH = 50;

/**
 * What an access token of a session is worth (see `tokenState`). Each access token carries the
 * `generation` of its session at the time it was issued (its `gen` claim); a token whose
 * generation is below `minGeneration` predates a change that must reach the caller (a new role,
 * a removal from the organisation it is for) and is refused until the client refreshes.
 */
export type TokenState = { live: boolean; minGeneration: number };

/** A session as the API shows it (`GET /v1/auth/sessions`). */
export type SessionView = {
  id: string;
  org_id: string;
  device: string;
  ip: string | null;
  user_agent: string | null;
  created_at: string;
  last_seen_at: string;
  /** When it ends unless refreshed: the earlier of the absolute and the idle expiry. */
  expires_at: string;
};

export type CreateSessionInput = {
  sessionId: string;
  orgId: string;
  ip: string | null;
  userAgent: string | null;
};

export type RotateInput = {
  refreshToken: string;
  ip: string | null;
  userAgent: string | null;
  /** Switch the session to this organisation in the same step (`org_id` on refresh). */
  orgId?: string | undefined;
};

export type RotateFailure = 'unknown' | 'expired' | 'revoked' | 'reused' | 'raced';

export type RotateResult =
  | { ok: true; refreshToken: string; session: SessionView; generation: number }
  | {
      ok: false;
      reason: RotateFailure;
      sessionId?: string;
      /** The organisation the session was for, when the session was found (for the audit row). */
      orgId?: string;
      familyRevoked: boolean;
    };

type EndReason = 'revoked' | 'expired' | 'reused';

type SessionRow = {
  id: string;
  org_id: string;
  token_hash: string;
  ip: string | null;
  user_agent: string | null;
  device: string;
  created_at: number;
  last_seen_at: number;
  ended_at: number | null;
  end_reason: EndReason | null;
  /** Rotations so far: the `gen` claim of the access token the last refresh issued. */
  generation: number;
  /** Access tokens with a lower `gen` are refused (see `TokenState`). */
  min_generation: number;
};

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    ip TEXT,
    user_agent TEXT,
    device TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    ended_at INTEGER,
    end_reason TEXT,
    generation INTEGER NOT NULL DEFAULT 0,
    min_generation INTEGER NOT NULL DEFAULT 0
  );
  CREATE TABLE IF NOT EXISTS rotated_tokens (
    hash TEXT PRIMARY KEY,
    session_id TEXT NOT NULL,
    rotated_at INTEGER NOT NULL
  );
  CREATE INDEX IF NOT EXISTS rotated_tokens_session_idx ON rotated_tokens (session_id, rotated_at);
  CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    body TEXT NOT NULL
  );
  CREATE TABLE IF NOT EXISTS realtime_channels (
    session_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    PRIMARY KEY (session_id, channel)
  );
`;

const expiresAt = (row: Pick<SessionRow, 'created_at' | 'last_seen_at'>) =>
  Math.min(row.created_at + SESSION_ABSOLUTE_TTL_MS, row.last_seen_at + SESSION_IDLE_TTL_MS);

const encoder = new TextEncoder();
const sameHash = (a: string, b: string) => timingSafeEqual(encoder.encode(a), encoder.encode(b));

/**
 * One user's sessions (`env.SESSIONS.idFromName(userId)`). Each sign-in creates a session, which
 * is one refresh-token family: the current token's hash, the hashes it replaced, the device it
 * is used from. Refreshing rotates the token; presenting a rotated one again is reuse and ends
 * the family (see `REUSE_LEEWAY_MS` for the concurrent-refresh exception).
 *
 * State lives in the object's SQLite storage. Every state change writes its session event into
 * an outbox table in the same synchronous step, and an alarm delivers the outbox to `EVENTS`
 * (whose consumer writes `session_events`), so an event is never lost between a change and its
 * record, and a queue outage only delays it. The same alarm ends sessions at their expiry and
 * purges ended ones once their tokens could no longer be valid anyway.
 */
export class Sessions extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private readonly logger = createLogger({ fields: { durable_object: 'Sessions' } });
  private flushFailures = 0;
  private realtimeFailures = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    void ctx.blockConcurrencyWhile(async () => {
      this.sql.exec(SCHEMA);
      this.migrate();
    });
  }

  /** Adds the generation columns to a table created before they existed. */
  private migrate(): void {
    try {
      this.sql.exec('SELECT generation, min_generation FROM sessions LIMIT 0');
    } catch {
      this.sql.exec('ALTER TABLE sessions ADD COLUMN generation INTEGER NOT NULL DEFAULT 0');
      this.sql.exec('ALTER TABLE sessions ADD COLUMN min_generation INTEGER NOT NULL DEFAULT 0');
    }
  }

  /** The user this object belongs to: the name it was addressed by. */
  private get userId(): string {
    const name = this.ctx.id.name;
    if (!name || !isId('user', name)) {
      throw new Error('Sessions objects are addressed with idFromName(userId)');
    }
    return name;
  }

  /**
   * Starts a session (a new refresh-token family) and returns its first refresh token; its
   * access tokens start at generation 0.
   */
  async create(
    input: CreateSessionInput,
  ): Promise<{ refreshToken: string; session: SessionView; generation: number }> {
    if (!isId('session', input.sessionId)) throw new Error('sessionId must be a ses_… id');
    const refreshToken = newRefreshToken(this.userId, input.sessionId);
    const hash = await hashRefreshToken(refreshToken);
    const now = Date.now();
    const userAgent = input.userAgent?.slice(0, 512) ?? null;
    const row: SessionRow = {
      id: input.sessionId,
      org_id: input.orgId,
      token_hash: hash,
      ip: ipOrNull(input.ip),
      user_agent: userAgent,
      device: deviceLabel(userAgent),
      created_at: now,
      last_seen_at: now,
      ended_at: null,
      end_reason: null,
      generation: 0,
      min_generation: 0,
    };
    this.ctx.storage.transactionSync(() => {
      this.sql.exec(
        `INSERT INTO sessions (id, org_id, token_hash, ip, user_agent, device, created_at, last_seen_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        row.id,
        row.org_id,
        row.token_hash,
        row.ip,
        row.user_agent,
        row.device,
        row.created_at,
        row.last_seen_at,
      );
      this.emit('created', row, now);
      const live = this.liveRows(now);
      for (const old of live.slice(MAX_LIVE_SESSIONS)) this.end(old, 'revoked', now);
    });
    await this.schedule(now);
    return { refreshToken, session: view(row), generation: 0 };
  }

  /**
   * Refreshes: trades the session's current refresh token for a new one and moves the session to
   * its next generation (the new access token's `gen`), switching it to `orgId` when given. A
   * token rotated out within `REUSE_LEEWAY_MS` is a lost race (`raced`, nothing revoked); one
   * rotated out earlier is reuse (`reused`: the whole family is revoked).
   */
  async rotate(input: RotateInput): Promise<RotateResult> {
    const parsed = parseRefreshToken(input.refreshToken);
    if (!parsed || parsed.userId !== this.userId) {
      return { ok: false, reason: 'unknown', familyRevoked: false };
    }
    const { sessionId } = parsed;
    // Hash first: from the session read to the write below everything is synchronous, so no
    // other call can interleave, and of several concurrent refreshes exactly one sees its token
    // as the current one.
    const presented = await hashRefreshToken(input.refreshToken);
    const next = newRefreshToken(parsed.userId, sessionId);
    const nextHash = await hashRefreshToken(next);
    const now = Date.now();
    const result = this.ctx.storage.transactionSync((): RotateResult => {
      const row = this.row(sessionId);
      if (!row) return { ok: false, reason: 'unknown', sessionId, familyRevoked: false };
      const failure = { ok: false as const, sessionId, orgId: row.org_id, familyRevoked: false };
      if (row.ended_at !== null) {
        return { ...failure, reason: row.end_reason === 'expired' ? 'expired' : 'revoked' };
      }
      if (expiresAt(row) <= now) {
        this.end(row, 'expired', now);
        return { ...failure, reason: 'expired' };
      }
      if (sameHash(row.token_hash, presented)) {
        const userAgent = input.userAgent?.slice(0, 512) ?? null;
        const updated: SessionRow = {
          ...row,
          org_id: input.orgId ?? row.org_id,
          token_hash: nextHash,
          ip: ipOrNull(input.ip),
          user_agent: userAgent,
          device: deviceLabel(userAgent),
          last_seen_at: now,
          generation: row.generation + 1,
        };
        this.sql.exec(
          `UPDATE sessions SET org_id = ?, token_hash = ?, ip = ?, user_agent = ?, device = ?,
             last_seen_at = ?, generation = ?
           WHERE id = ?`,
          updated.org_id,
          updated.token_hash,
          updated.ip,
          updated.user_agent,
          updated.device,
          updated.last_seen_at,
          updated.generation,
          row.id,
        );
        this.sql.exec(
          'INSERT OR REPLACE INTO rotated_tokens (hash, session_id, rotated_at) VALUES (?, ?, ?)',
          presented,
          row.id,
          now,
        );
        this.sql.exec(
          `DELETE FROM rotated_tokens WHERE session_id = ?1 AND hash NOT IN (
             SELECT hash FROM rotated_tokens WHERE session_id = ?1
             ORDER BY rotated_at DESC LIMIT ?2)`,
          row.id,
          MAX_ROTATED_PER_SESSION,
        );
        this.emit('refreshed', updated, now);
        return {
          ok: true,
          refreshToken: next,
          session: view(updated),
          generation: updated.generation,
        };
      }
      const rotated = this.sql
        .exec<{ rotated_at: number }>(
          'SELECT rotated_at FROM rotated_tokens WHERE hash = ? AND session_id = ?',
          presented,
          row.id,
        )
        .toArray()[0];
      if (!rotated) return { ...failure, reason: 'unknown' };
      if (now - rotated.rotated_at <= REUSE_LEEWAY_MS) return { ...failure, reason: 'raced' };
      const userAgent = input.userAgent?.slice(0, 512) ?? null;
      this.emit(
        'reuse_detected',
        {
          id: row.id,
          ip: ipOrNull(input.ip),
          user_agent: userAgent,
          device: deviceLabel(userAgent),
        },
        now,
      );
      this.end(row, 'reused', now);
      return { ...failure, reason: 'reused', familyRevoked: true };
    });
    await this.schedule(now);
    return result;
  }

  /**
   * Whether `refreshToken` is the current token of a live session, without spending it (so a
   * route can check a request against the database before rotating). Not part of the shared
   * contract: only the refresh route uses it.
   */
  async isCurrent(refreshToken: string): Promise<boolean> {
    const parsed = parseRefreshToken(refreshToken);
    if (!parsed || parsed.userId !== this.userId) return false;
    const presented = await hashRefreshToken(refreshToken);
    const row = this.row(parsed.sessionId);
    return (
      row !== undefined &&
      row.ended_at === null &&
      expiresAt(row) > Date.now() &&
      sameHash(row.token_hash, presented)
    );
  }

  /**
   * Whether the session is live, noting (when it is) that it opened a connection to a real-time
   * channel: when the session ends, the alarm closes its connections there
   * (`Realtime.closeSession`), so a revoked device stops hearing at once, not only at its next
   * connect.
   */
  async watchRealtime(sessionId: string, channel: string): Promise<boolean> {
    if (!(await this.isLive(sessionId))) return false;
    this.sql.exec(
      'INSERT OR IGNORE INTO realtime_channels (session_id, channel) VALUES (?, ?)',
      sessionId,
      channel,
    );
    return true;
  }

  /** Whether the session exists, is not revoked and has not expired. */
  async isLive(sessionId: string): Promise<boolean> {
    return (await this.tokenState(sessionId)).live;
  }

  /**
   * What the session's access tokens are worth now: whether it is live (not revoked, not
   * expired), and the lowest token generation still accepted. Every authenticated request asks
   * this, through a per-isolate cache (`shared/auth/session-state.ts`); a use counts as activity
   * for the idle expiry.
   */
  async tokenState(sessionId: string): Promise<TokenState> {
    const now = Date.now();
    const row = this.row(sessionId);
    if (!row || row.ended_at !== null || expiresAt(row) <= now) return DEAD;
    if (now - row.last_seen_at >= TOUCH_INTERVAL_MS) {
      this.sql.exec('UPDATE sessions SET last_seen_at = ? WHERE id = ?', now, sessionId);
    }
    return { live: true, minGeneration: row.min_generation };
  }

  /**
   * After the user's membership of `orgId` changed (`role`: a new role; `removed`: they left or
   * were removed), makes every access token that may carry the old membership unusable:
   *
   * - sessions on `orgId` are ended (`removed`), or must refresh before their next request
   *   (`role`: every token issued so far is refused; the refresh reads the new role);
   * - the user's other sessions keep only their newest token: an older one may be for `orgId`
   *   (issued before the session switched organisation), and is refused.
   *
   * The caller changes the membership in Postgres first and then calls this, and a refresh
   * rotates here first and then reads Postgres, so a token can only carry a stale role if it was
   * issued before this call, and then its generation is below the new minimum. Returns the new
   * state of every session it changed.
   */
  async membershipChanged(
    orgId: string,
    change: 'role' | 'removed',
  ): Promise<Record<string, TokenState>> {
    const now = Date.now();
    const changed: Record<string, TokenState> = {};
    this.ctx.storage.transactionSync(() => {
      for (const row of this.liveRows(now)) {
        if (row.org_id === orgId && change === 'removed') {
          this.end(row, 'revoked', now);
          changed[row.id] = DEAD;
          continue;
        }
        const minimum = row.org_id === orgId ? row.generation + 1 : row.generation;
        if (minimum <= row.min_generation) continue;
        this.sql.exec('UPDATE sessions SET min_generation = ? WHERE id = ?', minimum, row.id);
        changed[row.id] = { live: true, minGeneration: minimum };
      }
    });
    if (Object.values(changed).some((state) => !state.live)) await this.schedule(now);
    return changed;
  }

  /** The live sessions, most recently used first. */
  async list(): Promise<SessionView[]> {
    return this.liveRows(Date.now()).map(view);
  }

  /** Ends one live session; false when it is unknown, already ended or expired. */
  async revoke(sessionId: string): Promise<boolean> {
    const now = Date.now();
    const revoked = this.ctx.storage.transactionSync(() => {
      const row = this.row(sessionId);
      if (!row || row.ended_at !== null || expiresAt(row) <= now) return false;
      this.end(row, 'revoked', now);
      return true;
    });
    if (revoked) await this.schedule(now);
    return revoked;
  }

  /**
   * Ends every live session, except `except` (the caller's own, to "sign out other devices"),
   * or only those for `orgId` (a member removed from an organisation). Returns the ids ended.
   */
  async revokeAll(options: { except?: string; orgId?: string } = {}): Promise<string[]> {
    const now = Date.now();
    const ended = this.ctx.storage.transactionSync(() => {
      const rows = this.liveRows(now).filter(
        (row) =>
          row.id !== options.except &&
          (options.orgId === undefined || row.org_id === options.orgId),
      );
      for (const row of rows) this.end(row, 'revoked', now);
      return rows.map((row) => row.id);
    });
    if (ended.length > 0) await this.schedule(now);
    return ended;
  }

  /** Ends expired sessions, purges long-dead ones, and delivers the outbox. */
  override async alarm(): Promise<void> {
    const now = Date.now();
    this.ctx.storage.transactionSync(() => {
      const expired = this.sql
        .exec<SessionRow>(
          `SELECT * FROM sessions WHERE ended_at IS NULL
           AND MIN(created_at + ?, last_seen_at + ?) <= ?`,
          SESSION_ABSOLUTE_TTL_MS,
          SESSION_IDLE_TTL_MS,
          now,
        )
        .toArray();
      for (const row of expired) this.end(row, 'expired', now);
      // An ended session is kept until it would have expired anyway (and at least a day), so
      // that its tokens are answered `revoked` or `expired` rather than `unknown` meanwhile.
      const purgeable = `ended_at IS NOT NULL AND MAX(created_at + ?1, ended_at + ?2) <= ?3`;
      const args = [SESSION_ABSOLUTE_TTL_MS, ENDED_RETENTION_MS, now];
      this.sql.exec(
        `DELETE FROM rotated_tokens WHERE session_id IN (SELECT id FROM sessions WHERE ${purgeable})`,
        ...args,
      );
      this.sql.exec(`DELETE FROM sessions WHERE ${purgeable}`, ...args);
    });
    await this.flush();
    await this.closeRealtime();
    await this.schedule(Date.now());
  }

  /** The real-time channels ended sessions still have connections on. */
  private endedRealtime(): { session_id: string; channel: string }[] {
    return this.sql
      .exec<{ session_id: string; channel: string }>(
        `SELECT session_id, channel FROM realtime_channels
         WHERE session_id NOT IN (SELECT id FROM sessions WHERE ended_at IS NULL)
         LIMIT ?`,
        REALTIME_CLOSE_BATCH,
      )
      .toArray();
  }

  /**
   * Closes the connections ended sessions have on real-time channels (one call per session and
   * channel, in parallel); a channel that cannot be reached keeps its row for the next alarm.
   */
  private async closeRealtime(): Promise<void> {
    const rows = this.endedRealtime();
    if (rows.length === 0) return;
    const namespace = this.env.REALTIME;
    let failed = false;
    const results = await Promise.allSettled(
      rows.map(({ session_id, channel }) =>
        namespace.get(namespace.idFromName(channel)).closeSession(session_id),
      ),
    );
    results.forEach((result, i) => {
      const { session_id, channel } = rows[i]!;
      if (result.status === 'fulfilled') {
        this.sql.exec(
          'DELETE FROM realtime_channels WHERE session_id = ? AND channel = ?',
          session_id,
          channel,
        );
      } else {
        failed = true;
        this.logger.warn('real-time connections of an ended session not closed; will retry', {
          session_id,
          channel,
          error: result.reason,
        });
      }
    });
    this.realtimeFailures = failed ? this.realtimeFailures + 1 : 0;
  }

  private row(sessionId: string): SessionRow | undefined {
    return this.sql.exec<SessionRow>('SELECT * FROM sessions WHERE id = ?', sessionId).toArray()[0];
  }

  private liveRows(now: number): SessionRow[] {
    return this.sql
      .exec<SessionRow>(
        `SELECT * FROM sessions WHERE ended_at IS NULL
         AND MIN(created_at + ?, last_seen_at + ?) > ?
         ORDER BY last_seen_at DESC, id DESC`,
        SESSION_ABSOLUTE_TTL_MS,
        SESSION_IDLE_TTL_MS,
        now,
      )
      .toArray();
  }

  private end(row: SessionRow, reason: EndReason, now: number): void {
    this.sql.exec(
      'UPDATE sessions SET ended_at = ?, end_reason = ? WHERE id = ?',
      now,
      reason,
      row.id,
    );
    this.emit(reason === 'expired' ? 'expired' : 'revoked', row, now);
  }

  /** Writes a session event to the outbox (delivered by the alarm). */
  private emit(
    kind: SessionEventKind,
    row: Pick<SessionRow, 'id' | 'ip' | 'user_agent' | 'device'>,
    now: number,
  ): void {
    const event: SessionEvent = {
      id: newId('sessionEvent', now),
      user_id: this.userId,
      session_id: row.id,
      family_id: row.id,
      kind,
      ip: row.ip,
      user_agent: row.user_agent,
      device: row.device,
      created_at: new Date(now).toISOString(),
    };
    this.sql.exec('INSERT INTO outbox (body) VALUES (?)', JSON.stringify(event));
  }

  /** Sends the outbox to `EVENTS`, oldest first; what was sent is deleted, the rest waits. */
  private async flush(): Promise<void> {
    for (;;) {
      const rows = this.sql
        .exec<{ seq: number; body: string }>(
          'SELECT seq, body FROM outbox ORDER BY seq LIMIT ?',
          OUTBOX_BATCH,
        )
        .toArray();
      if (rows.length === 0) break;
      try {
        await this.env.EVENTS.sendBatch(
          rows.map((row) => ({
            body: envelope(SESSION_EVENT, JSON.parse(row.body) as SessionEvent, {}),
            contentType: 'json' as const,
          })),
        );
      } catch (error) {
        this.flushFailures++;
        this.logger.error('session events not delivered; will retry', {
          error,
          pending: rows.length,
          failures: this.flushFailures,
        });
        return;
      }
      this.flushFailures = 0;
      this.sql.exec('DELETE FROM outbox WHERE seq <= ?', rows.at(-1)!.seq);
    }
  }

  /**
   * Sets the alarm for the next thing to do: delivering the outbox (now, or after a backoff when
   * the queue refused it), closing an ended session's real-time connections (likewise), the next
   * expiry of a live session, or the next purge.
   */
  private async schedule(now: number): Promise<void> {
    const pending = this.sql.exec('SELECT 1 FROM outbox LIMIT 1').toArray().length > 0;
    const closing = this.endedRealtime().length > 0;
    const { expiry, purge } = this.sql
      .exec<{ expiry: number | null; purge: number | null }>(
        `SELECT
           (SELECT MIN(MIN(created_at + ?1, last_seen_at + ?2)) FROM sessions WHERE ended_at IS NULL) AS expiry,
           (SELECT MIN(MAX(created_at + ?1, ended_at + ?3)) FROM sessions WHERE ended_at IS NOT NULL) AS purge`,
        SESSION_ABSOLUTE_TTL_MS,
        SESSION_IDLE_TTL_MS,
        ENDED_RETENTION_MS,
      )
      .one();
    const backoff = (failures: number) =>
      now + (failures > 0 ? Math.min(MAX_FLUSH_BACKOFF_MS, SECOND * 2 ** failures) : 0);
    const candidates = [
      pending ? backoff(this.flushFailures) : null,
      closing ? backoff(this.realtimeFailures) : null,
      expiry,
      purge,
    ].filter((t): t is number => t !== null);
    if (candidates.length === 0) {
      await this.ctx.storage.deleteAlarm();
      return;
    }
    const next = Math.max(now, Math.min(...candidates));
    if ((await this.ctx.storage.getAlarm()) !== next) await this.ctx.storage.setAlarm(next);
  }
}

const DEAD: TokenState = { live: false, minGeneration: 0 };

function view(row: SessionRow): SessionView {
  return {
    id: row.id,
    org_id: row.org_id,
    device: row.device,
    ip: row.ip,
    user_agent: row.user_agent,
    created_at: new Date(row.created_at).toISOString(),
    last_seen_at: new Date(row.last_seen_at).toISOString(),
    expires_at: new Date(expiresAt(row)).toISOString(),
  };
}
