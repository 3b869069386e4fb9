import { DurableObject } from 'cloudflare:workers';
import { Redis } from '@upstash/redis/cloudflare';
import { createLogger } from '../shared/logger.ts';
import { type ChannelEvent, type TicketClaims, ticketKey } from '../shared/realtime/channels.ts';

/** Events a channel keeps at least (more when younger than {@link KEEP_MS}). */
export const KEEP_EVENTS = 1_000;
/** Events younger than this are kept, however many. */
export const KEEP_MS = 10 * 60_000;
/** Events a channel keeps at most, whatever their age (bounds its storage). */
export const MAX_KEPT_EVENTS = 20_000;
/** Connections one channel takes unless the API says otherwise (`REALTIME_MAX_CONNECTIONS`). */
export const DEFAULT_MAX_CONNECTIONS = 5_000;
/** Largest message a client may send (a WebSocket frame). */
export const MAX_CLIENT_MESSAGE_BYTES = 4_096;
/** An event-stream reader this many bytes behind is dropped. */
export const MAX_STREAM_BACKLOG_BYTES = 1_048_576;
/** A WebSocket silent (no `ping`) this long is closed, unless the API says otherwise. */
export const DEFAULT_HEARTBEAT_SECONDS = 75;
/** Silent sockets are looked for at most this often (on a publish or a presence read). */
const SWEEP_INTERVAL_MS = 1_000;
/** Close codes (RFC 6455 and the 4000–4999 range for applications). */
export const CLOSE = {
  tooBig: 1009,
  sendFailed: 1011,
  tryAgainLater: 1013,
  protocol: 1008,
  /** The session the connection was opened for ended (signed out, revoked, expired). */
  sessionEnded: 4001,
  /** No `ping` within the heartbeat: the client is gone or cannot keep up. */
  noHeartbeat: 4002,
} as const;

/** What a connection carries through hibernation (`serializeAttachment`). */
type Member = {
  connection_id: string;
  user_id: string | null;
  key_id: string | null;
  device: string | null;
  joined_at: string;
};

/** A WebSocket's attachment: its member, its heartbeat, and whether the object closed it. */
type Attachment = Member & { heartbeat_ms: number; closed?: true };

type Stored = { offset: number; body: string };

/** One event-stream (SSE) reader: not hibernatable, so kept in memory while open. */
type Stream = {
  member: Member;
  sessionId: string | null;
  writer: WritableStreamDefaultWriter<Uint8Array>;
};

/** The tag of the WebSockets opened for a session (`ctx.getWebSockets(tag)`). */
const sessionTag = (sessionId: string) => `session:${sessionId}`;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS events (
  "offset" INTEGER PRIMARY KEY,
  event_id TEXT NOT NULL UNIQUE,
  body TEXT NOT NULL,
  at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
`;

const encoder = new TextEncoder();

/** A refusal, which the API route answers as its problem (`code` is an `ErrorCode`). */
export type Refusal = { code: 'UNAUTHORIZED' | 'RATE_LIMITED'; detail: string };

function refuse(status: number, code: Refusal['code'], detail: string): Response {
  return Response.json({ code, detail } satisfies Refusal, {
    status,
    headers: { 'x-sift-refusal': '1' },
  });
}

/**
 * One real-time channel (`org:…`, `content:…`, `user:…`, `operation:…`; one object per channel,
 * named by it). It numbers the events published to it (`offset`, monotonically increasing, with
 * the channel's `epoch`: a fresh one whenever its storage starts over), keeps them in SQLite (the
 * last {@link KEEP_EVENTS} or {@link KEEP_MS}, whichever is more) and sends each to every
 * connection: WebSockets through the hibernation API (the object sleeps between events; each
 * socket's member is its serialized attachment, so presence survives) and, as the fallback,
 * server-sent event streams. A connection names the offset it has (`since`, or `Last-Event-ID`)
 * and gets what it missed, in order, without repeats; a gap older than what is kept is an explicit
 * `discontinuity`. Tickets (single-use, 60 s) are checked here: the object takes the ticket out of
 * Redis (`GETDEL`), so a ticket opens one connection once.
 */
export class Realtime extends DurableObject<Env> {
  private sql: SqlStorage;
  private epoch = '';
  /** The channel's name, as the first connection gave it (kept in meta). */
  private channel = '';
  private lastOffset = 0;
  private streams = new Set<Stream>();
  private redis: Redis | undefined;
  /** Sessions closed here while this instance lives: a connect racing the close is refused. */
  private endedSessions = new Set<string>();
  private lastSweep = 0;
  private readonly logger = createLogger({ fields: { durable_object: 'Realtime' } });
  /** Each socket's attachment, read once per instance (deserializing on every send is costly). */
  private attachments = new WeakMap<WebSocket, Attachment | null>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair('ping', 'pong'));
    void ctx.blockConcurrencyWhile(async () => {
      this.sql.exec(SCHEMA);
      const meta = new Map(
        this.sql
          .exec<{ key: string; value: string }>('SELECT key, value FROM meta')
          .toArray()
          .map((r) => [r.key, r.value]),
      );
      this.epoch = meta.get('epoch') ?? crypto.randomUUID().slice(0, 8);
      this.lastOffset = Number(meta.get('last_offset') ?? 0);
      this.channel = meta.get('channel') ?? '';
      if (!meta.has('epoch')) {
        this.sql.exec("INSERT INTO meta (key, value) VALUES ('epoch', ?)", this.epoch);
      }
    });
  }

  /** Connects a client (a WebSocket upgrade or an event stream), after checking its ticket. */
  override async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const channel = url.searchParams.get('channel') ?? '';
    const ticket = url.searchParams.get('ticket') ?? '';
    const claims = await this.takeTicket(ticket, channel);
    if (!claims) {
      return refuse(401, 'UNAUTHORIZED', 'The ticket is unknown, used already or expired.');
    }
    const sessionId = claims.session_id;
    if (sessionId && claims.user_id) {
      // The session notes the channel, so that ending it closes this connection.
      const sessions = this.env.SESSIONS.get(this.env.SESSIONS.idFromName(claims.user_id));
      const live = await sessions.watchRealtime(sessionId, channel);
      if (!live || this.endedSessions.has(sessionId)) {
        return refuse(401, 'UNAUTHORIZED', 'The session that asked for the ticket was revoked.');
      }
    }
    const max = Number(request.headers.get('x-sift-max-connections')) || DEFAULT_MAX_CONNECTIONS;
    const heartbeat =
      Number(request.headers.get('x-sift-heartbeat-seconds')) || DEFAULT_HEARTBEAT_SECONDS;
    if (this.openSockets().length + this.streams.size >= max) {
      return refuse(429, 'RATE_LIMITED', `The channel has ${max} connections, the most it takes.`);
    }
    const member: Member = {
      connection_id: crypto.randomUUID(),
      user_id: claims.user_id,
      key_id: claims.key_id,
      device: claims.device,
      joined_at: new Date().toISOString(),
    };
    const resume = this.resumePoint(url, request.headers);
    if (request.headers.get('upgrade')?.toLowerCase() === 'websocket') {
      const { 0: client, 1: server } = new WebSocketPair();
      const tags = [member.connection_id, ...(sessionId ? [sessionTag(sessionId)] : [])];
      this.ctx.acceptWebSocket(server, tags);
      this.attach(server, { ...member, heartbeat_ms: heartbeat * 1_000 });
      server.send(JSON.stringify(this.welcome(channel, member)));
      for (const message of this.catchUp(channel, resume)) server.send(message);
      this.announce('presence.join', member, server);
      return new Response(null, { status: 101, webSocket: client });
    }
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>(undefined, {
      highWaterMark: MAX_STREAM_BACKLOG_BYTES,
      size: (chunk) => chunk.byteLength,
    });
    const stream: Stream = { member, sessionId, writer: writable.getWriter() };
    stream.writer.closed.catch(() => {});
    this.streams.add(stream);
    void this.write(stream, sse(this.welcome(channel, member), 'welcome'));
    for (const message of this.catchUp(channel, resume)) void this.write(stream, sseOf(message));
    this.announce('presence.join', member);
    return new Response(readable, {
      headers: {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        'x-accel-buffering': 'no',
      },
    });
  }

  /**
   * Publishes events (in order) to the channel: each gets the next offset, is kept, and is sent to
   * every connection. An event id the channel already has is dropped (a redelivered publish).
   */
  async publish(channel: string, events: ChannelEvent[]): Promise<{ offsets: number[] }> {
    const offsets: number[] = [];
    const now = Date.now();
    this.sweepSilent(now);
    for (const event of events) {
      const seen = this.sql
        .exec('SELECT 1 FROM events WHERE event_id = ?', event.id)
        .toArray().length;
      if (seen) continue;
      const offset = this.lastOffset + 1;
      const message = {
        type: 'event',
        channel,
        epoch: this.epoch,
        offset,
        published_at: now,
        event,
      };
      const body = JSON.stringify(message);
      this.sql.exec(
        'INSERT INTO events ("offset", event_id, body, at) VALUES (?, ?, ?, ?)',
        offset,
        event.id,
        body,
        now,
      );
      this.lastOffset = offset;
      offsets.push(offset);
      this.broadcast(body);
    }
    if (offsets.length > 0) {
      this.sql.exec(
        "INSERT INTO meta (key, value) VALUES ('last_offset', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        String(this.lastOffset),
      );
      this.trim(now);
    }
    return { offsets };
  }

  /**
   * Closes every connection opened for a session that has ended (the `Sessions` object calls
   * this when it is revoked or expires): WebSockets with {@link CLOSE.sessionEnded}, event
   * streams by ending them. Returns how many were closed.
   */
  async closeSession(sessionId: string): Promise<number> {
    this.endedSessions.add(sessionId);
    let closed = 0;
    for (const ws of this.ctx.getWebSockets(sessionTag(sessionId))) {
      if (this.closeSocket(ws, CLOSE.sessionEnded, 'session ended')) closed++;
    }
    for (const stream of this.streams) {
      if (stream.sessionId !== sessionId) continue;
      this.dropStream(stream, 'session ended', { graceful: true });
      closed++;
    }
    return closed;
  }

  /** Who is connected: one entry per connection, as its ticket named it. */
  async presence(): Promise<{ epoch: string; offset: number; members: Member[] }> {
    this.sweepSilent(Date.now());
    return { epoch: this.epoch, offset: this.lastOffset, members: this.members() };
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    const size = typeof message === 'string' ? encoder.encode(message).length : message.byteLength;
    if (size > MAX_CLIENT_MESSAGE_BYTES) {
      this.closeSocket(ws, CLOSE.tooBig, `messages are at most ${MAX_CLIENT_MESSAGE_BYTES} bytes`);
      return;
    }
    // Clients only listen; `ping` is answered without waking the object (auto-response).
    ws.send(JSON.stringify({ type: 'error', message: 'this channel takes no messages but ping' }));
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    this.left(ws);
    try {
      ws.close(code === 1005 || code === 1006 ? 1000 : code, reason);
    } catch {}
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    this.left(ws);
  }

  private attach(ws: WebSocket, attachment: Attachment): void {
    this.attachments.set(ws, attachment);
    ws.serializeAttachment(attachment);
  }

  private attachmentOf(ws: WebSocket): Attachment | null {
    let attachment = this.attachments.get(ws);
    if (attachment === undefined) {
      attachment = ws.deserializeAttachment() as Attachment | null;
      this.attachments.set(ws, attachment);
    }
    return attachment;
  }

  /** Announces that a socket left, unless the object closed it (and announced it then). */
  private left(ws: WebSocket): void {
    const attachment = this.attachmentOf(ws);
    if (!attachment || attachment.closed) return;
    this.announce('presence.leave', memberOf(attachment), ws);
  }

  /**
   * Closes a socket from this side and announces its leave at once: the client may never answer
   * the close (it is gone or stuck), and it must not linger in presence or get events meanwhile.
   * False when it was closed already.
   */
  private closeSocket(ws: WebSocket, code: number, reason: string): boolean {
    const attachment = this.attachmentOf(ws);
    if (!attachment || attachment.closed) return false;
    try {
      this.attach(ws, { ...attachment, closed: true });
    } catch {}
    try {
      ws.close(code, reason);
    } catch {}
    this.announce('presence.leave', memberOf(attachment));
    return true;
  }

  /** The WebSockets still open (not closed by this side), with their attachments. */
  private openSockets(): { ws: WebSocket; attachment: Attachment }[] {
    const open: { ws: WebSocket; attachment: Attachment }[] = [];
    for (const ws of this.ctx.getWebSockets()) {
      const attachment = this.attachmentOf(ws);
      if (attachment && !attachment.closed) open.push({ ws, attachment });
    }
    return open;
  }

  /**
   * Closes the WebSockets that have sent no `ping` within their heartbeat (counted from when
   * they joined): gone without a close, or too far behind to answer. The runtime does not say
   * how much a socket has buffered, so a client that keeps pinging is trusted to keep up.
   */
  private sweepSilent(now: number): void {
    if (now - this.lastSweep < SWEEP_INTERVAL_MS) return;
    this.lastSweep = now;
    for (const { ws, attachment } of this.openSockets()) {
      const pinged = this.ctx.getWebSocketAutoResponseTimestamp(ws)?.getTime() ?? 0;
      const heard = Math.max(pinged, Date.parse(attachment.joined_at));
      if (now - heard > attachment.heartbeat_ms) {
        const seconds = Math.round(attachment.heartbeat_ms / 1_000);
        this.logger.info('realtime: closing a silent connection', {
          channel: this.channel,
          connection_id: attachment.connection_id,
          silent_ms: now - heard,
        });
        this.closeSocket(ws, CLOSE.noHeartbeat, `no ping for ${seconds} s`);
      }
    }
  }

  private members(): Member[] {
    const sockets = this.openSockets().map(({ attachment }) => memberOf(attachment));
    return [...sockets, ...[...this.streams].map((s) => s.member)];
  }

  private welcome(channel: string, member: Member) {
    if (this.channel !== channel) {
      this.channel = channel;
      this.sql.exec(
        "INSERT INTO meta (key, value) VALUES ('channel', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        channel,
      );
    }
    return {
      type: 'welcome',
      channel,
      epoch: this.epoch,
      offset: this.lastOffset,
      connection_id: member.connection_id,
      members: this.members().length,
    };
  }

  /** Tells every connection but `except` that `member` joined or left the channel. */
  private announce(type: 'presence.join' | 'presence.leave', member: Member, except?: WebSocket) {
    this.broadcast(JSON.stringify({ type, channel: this.channel, member }), except);
  }

  /** Where a reconnecting client left off: `since`/`epoch`, or `Last-Event-ID: <epoch>:<offset>`. */
  private resumePoint(url: URL, headers: Headers): { since: number; epoch: string | null } | null {
    const lastEventId = headers.get('last-event-id');
    if (lastEventId) {
      const match = /^([\w-]{1,36}):(\d{1,15})$/.exec(lastEventId);
      if (match) return { epoch: match[1]!, since: Number(match[2]) };
      return { epoch: 'unknown', since: 0 };
    }
    const since = url.searchParams.get('since');
    if (since === null) return null;
    return { since: Number(since), epoch: url.searchParams.get('epoch') };
  }

  /** What a reconnecting client missed, in order; or a `discontinuity` when that is not kept. */
  private catchUp(
    channel: string,
    resume: { since: number; epoch: string | null } | null,
  ): string[] {
    if (!resume || (resume.since >= this.lastOffset && resume.epoch === this.epoch)) return [];
    const oldest =
      this.sql.exec<{ o: number | null }>('SELECT min("offset") AS o FROM events').toArray()[0]
        ?.o ?? this.lastOffset + 1;
    const epochChanged = resume.epoch !== null && resume.epoch !== this.epoch;
    if (epochChanged || resume.since > this.lastOffset || resume.since < oldest - 1) {
      return [
        JSON.stringify({
          type: 'discontinuity',
          channel,
          epoch: this.epoch,
          offset: this.lastOffset,
          since: resume.since,
          reason: epochChanged || resume.since > this.lastOffset ? 'epoch' : 'gap',
          detail: 'Events were missed that the channel no longer holds: fetch the state again.',
        }),
      ];
    }
    return this.sql
      .exec<Stored>(
        'SELECT "offset", body FROM events WHERE "offset" > ? ORDER BY "offset"',
        resume.since,
      )
      .toArray()
      .map((row) => row.body);
  }

  /** Sends to every connection but `except`; a socket that cannot take it is closed (1011). */
  private broadcast(message: string, except?: WebSocket): void {
    for (const ws of this.ctx.getWebSockets()) {
      if (ws === except) continue;
      const attachment = this.attachmentOf(ws);
      if (!attachment || attachment.closed) continue;
      try {
        ws.send(message);
      } catch (error) {
        this.logger.warn('realtime: a send failed; closing the connection', {
          channel: this.channel,
          error,
        });
        this.closeSocket(ws, CLOSE.sendFailed, 'send failed');
      }
    }
    if (this.streams.size === 0) return;
    const frame = sseOf(message);
    for (const stream of this.streams) void this.write(stream, frame);
  }

  /** Writes to an event stream; a reader too far behind (or gone) is dropped. */
  private async write(stream: Stream, frame: Uint8Array): Promise<void> {
    if (!this.streams.has(stream)) return;
    if ((stream.writer.desiredSize ?? 0) <= 0) {
      this.dropStream(stream, 'slow reader: too far behind');
      return;
    }
    try {
      await stream.writer.write(frame);
    } catch {
      this.dropStream(stream, 'reader gone');
    }
  }

  /**
   * Stops writing to an event stream and tells the others it left: `graceful` ends it after what
   * is queued (the client sees the stream end), otherwise it is cut at once (a slow reader).
   */
  private dropStream(stream: Stream, reason: string, { graceful = false } = {}): void {
    if (!this.streams.delete(stream)) return;
    const ending = graceful ? stream.writer.close() : stream.writer.abort(reason);
    void ending.catch(() => {});
    this.announce('presence.leave', stream.member);
  }

  /** Keeps the last {@link KEEP_EVENTS}, or every event younger than {@link KEEP_MS}. */
  private trim(now: number): void {
    this.sql.exec(
      'DELETE FROM events WHERE "offset" <= ? AND (at < ? OR "offset" <= ?)',
      this.lastOffset - KEEP_EVENTS,
      now - KEEP_MS,
      this.lastOffset - MAX_KEPT_EVENTS,
    );
  }

  /** Takes a ticket for `channel` out of Redis: valid once, until it expires. */
  private async takeTicket(ticket: string, channel: string): Promise<TicketClaims | null> {
    if (!/^[\w-]{20,100}$/.test(ticket) || channel === '') return null;
    this.redis ??= new Redis({
      url: this.env.UPSTASH_REDIS_REST_URL,
      token: this.env.UPSTASH_REDIS_REST_TOKEN,
    });
    const claims = await this.redis.getdel<TicketClaims>(await ticketKey(ticket, channel));
    if (!claims || claims.channel !== channel || claims.expires_at < Date.now()) return null;
    return claims;
  }
}

/** What presence shows of a socket: its member, without the object's bookkeeping. */
function memberOf({ heartbeat_ms: _, closed: __, ...member }: Attachment): Member {
  return member;
}

/** A server-sent event: `id: <epoch>:<offset>` for channel events, so a reconnect resumes. */
function sse(message: Record<string, unknown>, event: string): Uint8Array {
  if (message.type === 'event') {
    const id = `${message.epoch as string}:${message.offset as number}`;
    return encoder.encode(`id: ${id}\ndata: ${JSON.stringify(message)}\n\n`);
  }
  return encoder.encode(`event: ${event}\ndata: ${JSON.stringify(message)}\n\n`);
}

/** A message as a server-sent event: channel events unnamed (`onmessage`), the rest by type. */
function sseOf(body: string): Uint8Array {
  const message = JSON.parse(body) as Record<string, unknown>;
  return sse(message, message.type as string);
}
