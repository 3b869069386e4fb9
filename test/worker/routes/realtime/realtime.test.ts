import { evictDurableObject, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { afterAll, describe, expect, it } from 'vitest';
import { ticketKey } from '../../../../shared/realtime/channels.ts';
import { publishToChannels } from '../../../../shared/realtime/publish.ts';
import { bearer, createMember, tokenFor } from '../../auth.ts';
import { call, eventually, expectProblem, testServices, untilQuiet } from '../../helpers.ts';
import { insertContent } from '../content/fixtures.ts';
import { insertKey, json, signedIn } from '../keys/fixtures.ts';

afterAll(() => untilQuiet());

type Message = Record<string, unknown> & { type: string };

async function ticket(auth: Record<string, string>, channels: string[], device?: string) {
  const response = await call('/v1/realtime/tickets', json('POST', { channels, device }, auth));
  const text = await response.text();
  expect(response.status, text).toBe(201);
  return JSON.parse(text) as {
    ticket: string;
    expires_at: string;
    channels: { channel: string; connect_url: string }[];
  };
}

/** A WebSocket connection through the API, collecting what it receives. */
async function connect(
  channel: string,
  secret: string,
  query: Record<string, string> = {},
  settings: Record<string, string> = {},
) {
  const params = new URLSearchParams({ channel, ticket: secret, ...query });
  const response = await call(
    `/v1/realtime/connect?${params}`,
    { headers: { Upgrade: 'websocket' } },
    settings,
  );
  const ws = response.webSocket;
  if (response.status !== 101 || !ws) {
    const none = async (): Promise<Message[]> => {
      throw new Error(`not connected: ${response.status}`);
    };
    return {
      response,
      ws,
      messages: [] as Message[],
      closed: () => null,
      of: () => [],
      waitFor: none,
    };
  }
  const messages: Message[] = [];
  let closed = null as { code: number; reason: string } | null;
  ws.addEventListener('message', (e) => {
    // `pong` answers a `ping`; everything else is JSON.
    if (e.data !== 'pong') messages.push(JSON.parse(e.data as string) as Message);
  });
  ws.addEventListener('close', (e) => {
    closed = { code: e.code, reason: e.reason };
  });
  ws.accept();
  return {
    response,
    ws,
    messages,
    closed: () => closed,
    of: (type: string) => messages.filter((m) => m.type === type),
    async waitFor(type: string, count = 1): Promise<Message[]> {
      return eventually(async () => {
        const found = messages.filter((m) => m.type === type);
        return found.length >= count && found;
      }, 10_000);
    },
  };
}

const event = (id: string, type = 'content.updated') => ({
  id,
  type,
  occurred_at: new Date().toISOString(),
  data: { n: id },
});

function publish(channel: string, ids: string[]) {
  return publishToChannels(
    testServices(),
    ids.map((id) => ({ channel, event: event(id) })),
  );
}

describe('tickets', () => {
  it('issues a single-use ticket for the caller’s own channels', async () => {
    const { auth, orgId, member } = await signedIn('rt-ticket');
    const item = await insertContent(orgId, {});
    const issued = await ticket(
      auth,
      [`org:${orgId}`, `content:${item.id}`, `user:${member.userId}`, `org:${orgId}`],
      'web',
    );
    expect(issued.ticket).toMatch(/^rt_[\w-]{32}$/);
    expect(issued.channels.map((c) => c.channel)).toEqual([
      `org:${orgId}`,
      `content:${item.id}`,
      `user:${member.userId}`,
    ]);
    const ttl = Date.parse(issued.expires_at) - Date.now();
    expect(ttl).toBeGreaterThan(50_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
    const first = await connect(`org:${orgId}`, issued.ticket);
    expect(first.response.status).toBe(101);
    const [welcome] = await first.waitFor('welcome');
    expect(welcome).toMatchObject({ channel: `org:${orgId}`, offset: expect.any(Number) });
    // Used: the same ticket does not open the same channel again…
    const again = await connect(`org:${orgId}`, issued.ticket);
    await expectProblem(again.response, 401);
    // …but opens each other channel it names, once.
    const other = await connect(`content:${item.id}`, issued.ticket);
    expect(other.response.status).toBe(101);
    first.ws!.close(1000, 'done');
    other.ws!.close(1000, 'done');
  });

  it('refuses another organisation’s channels, another user’s, and bad names', async () => {
    const { auth, orgId, member } = await signedIn('rt-refuse');
    const other = await signedIn('rt-refuse-other');
    const theirs = await insertContent(other.orgId, {});
    const colleague = await createMember(orgId, 'editor');
    for (const [channel, status] of [
      [`org:${other.orgId}`, 404],
      [`content:${theirs.id}`, 404],
      [`user:${colleague.userId}`, 404],
      [`operation:op_01jd5x3k7yf0v9r2m4q6s8t1wz`, 404],
      ['org:nope', 400],
      ['team:anything', 400],
      ['', 400],
      [`org:${orgId}\u0000`, 400],
    ] as const) {
      const response = await call(
        '/v1/realtime/tickets',
        json('POST', { channels: [channel] }, auth),
      );
      const problem = await expectProblem(response, status);
      expect(problem.errors?.[0]?.path, channel).toBe('body.channels.0');
    }
    for (const body of [
      { channels: [] },
      { channels: Array.from({ length: 11 }, () => `org:${orgId}`) },
      { channels: [`org:${orgId}`], device: 'x'.repeat(101) },
      { channels: [`org:${orgId}`], device: '<script>' },
      { channels: [`org:${orgId}`], extra: true },
    ]) {
      await expectProblem(await call('/v1/realtime/tickets', json('POST', body, auth)), 400);
    }
    // An API key listens to its organisation, never to a user channel.
    const key = await insertKey(orgId, { scopes: ['content:read'] });
    const keyAuth = bearer(key.secret);
    await ticket(keyAuth, [`org:${orgId}`]);
    await expectProblem(
      await call(
        '/v1/realtime/tickets',
        json('POST', { channels: [`user:${member.userId}`] }, keyAuth),
      ),
      404,
    );
  });

  it('refuses an unknown, expired or forged ticket, and one whose session was revoked', async () => {
    const { orgId } = await signedIn('rt-expired');
    const channel = `org:${orgId}`;
    const unknown = await connect(channel, 'rt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
    await expectProblem(unknown.response, 401);
    // An expired ticket (its claims say so, whatever Redis still holds).
    const expired = 'rt_expiredexpiredexpiredexpiredexp';
    await testServices().redis.set(
      await ticketKey(expired, channel),
      {
        org_id: orgId,
        channel,
        user_id: null,
        key_id: null,
        session_id: null,
        device: null,
        expires_at: Date.now() - 1,
      },
      { ex: 60 },
    );
    await expectProblem((await connect(channel, expired)).response, 401);
    // A ticket for one channel does not open another.
    const member = await createMember(orgId, 'viewer');
    const session = await tokenFor(member);
    const issued = await ticket(bearer(session.token), [channel]);
    await expectProblem(
      (await connect(`org:${(await signedIn('rt-x')).orgId}`, issued.ticket)).response,
      401,
    );
    // Revoke the session: its ticket no longer opens anything.
    const sessions = env.SESSIONS.get(env.SESSIONS.idFromName(member.userId));
    await sessions.revoke(session.sessionId);
    await expectProblem((await connect(channel, issued.ticket)).response, 401);
    // No ticket at all, or one that cannot be one: 400 naming it.
    const bare = await call(`/v1/realtime/connect?channel=${encodeURIComponent(channel)}`, {
      headers: { Upgrade: 'websocket' },
    });
    expect((await expectProblem(bare, 400)).errors?.[0]?.path).toBe('query.ticket');
  });
});

describe('events, resume and presence', () => {
  it('delivers published events with increasing offsets and the epoch, once each', async () => {
    const { auth, orgId } = await signedIn('rt-events');
    const channel = `org:${orgId}`;
    const client = await connect(channel, (await ticket(auth, [channel])).ticket);
    const [welcome] = await client.waitFor('welcome');
    await publish(channel, ['e1', 'e2']);
    await publish(channel, ['e2', 'e3']); // e2 again: dropped
    const events = await client.waitFor('event', 3);
    expect(events.map((e) => (e.event as { id: string }).id)).toEqual(['e1', 'e2', 'e3']);
    const offsets = events.map((e) => e.offset as number);
    expect(offsets).toEqual([
      (welcome!.offset as number) + 1,
      (welcome!.offset as number) + 2,
      (welcome!.offset as number) + 3,
    ]);
    expect(new Set(events.map((e) => e.epoch))).toEqual(new Set([welcome!.epoch]));
    client.ws!.close(1000);
  });

  it('publishes to an item’s channel once someone asked for a ticket to it, not before', async () => {
    const { auth, orgId } = await signedIn('rt-item');
    const item = await insertContent(orgId, {});
    const channel = `content:${item.id}`;
    const offset = async () =>
      (await env.REALTIME.get(env.REALTIME.idFromName(channel)).presence()).offset;
    expect(await publish(channel, ['before'])).toBe(0);
    expect(await offset()).toBe(0);
    const issued = await ticket(auth, [channel]);
    expect(await publish(channel, ['after'])).toBe(1);
    const client = await connect(channel, issued.ticket, { since: '0' });
    const [replayed] = await client.waitFor('event');
    expect((replayed!.event as { id: string }).id).toBe('after');
    client.ws!.close(1000);
  });

  it('replays what a reconnecting client missed, in order, without repeats', async () => {
    const { auth, orgId } = await signedIn('rt-resume');
    const channel = `org:${orgId}`;
    const first = await connect(channel, (await ticket(auth, [channel])).ticket);
    await publish(channel, ['a1', 'a2']);
    const seen = await first.waitFor('event', 2);
    const last = seen.at(-1)!;
    first.ws!.close(1000);
    await publish(channel, ['a3', 'a4', 'a5']);
    const back = await connect(channel, (await ticket(auth, [channel])).ticket, {
      since: String(last.offset),
      epoch: String(last.epoch),
    });
    const replayed = await back.waitFor('event', 3);
    expect(replayed.map((e) => (e.event as { id: string }).id)).toEqual(['a3', 'a4', 'a5']);
    await publish(channel, ['a6']);
    await back.waitFor('event', 4);
    expect(back.of('event').map((e) => e.offset)).toEqual(
      [1, 2, 3, 4].map((n) => (last.offset as number) + n),
    );
    expect(back.of('discontinuity')).toEqual([]);
    back.ws!.close(1000);
  });

  it('says discontinuity when the epoch differs or the gap is older than what is kept', async () => {
    const { auth, orgId } = await signedIn('rt-gap');
    const channel = `org:${orgId}`;
    await publish(channel, ['g1']);
    const wrongEpoch = await connect(channel, (await ticket(auth, [channel])).ticket, {
      since: '1',
      epoch: 'other',
    });
    const [jump] = await wrongEpoch.waitFor('discontinuity');
    expect(jump).toMatchObject({ reason: 'epoch', since: 1 });
    expect(wrongEpoch.of('event')).toEqual([]);
    // 1,001 more events: offset 1 is more than 1,000 back, but younger than 10 minutes: kept.
    await publish(
      channel,
      Array.from({ length: 1_001 }, (_, i) => `g${i + 2}`),
    );
    const late = await connect(channel, (await ticket(auth, [channel])).ticket, {
      since: '1',
      epoch: String(jump!.epoch),
    });
    const replayed = await late.waitFor('event', 1_001);
    expect(replayed[0]!.offset).toBe(2);
    expect(late.of('discontinuity')).toEqual([]);
    // Once they are older than 10 minutes, only the last 1,000 are kept: resuming from before
    // them is a gap.
    const channelObject = env.REALTIME.get(env.REALTIME.idFromName(channel));
    await runInDurableObject(channelObject, (_instance, state) => {
      state.storage.sql.exec('UPDATE events SET at = at - 11 * 60 * 1000');
    });
    await publish(channel, ['g-last']);
    const gap = await connect(channel, (await ticket(auth, [channel])).ticket, {
      since: '1',
      epoch: String(jump!.epoch),
    });
    const [hole] = await gap.waitFor('discontinuity');
    expect(hole).toMatchObject({ reason: 'gap', since: 1, offset: 1_003 });
    expect(gap.of('event')).toEqual([]);
    // From within what is kept, the rest comes as usual.
    const near = await connect(channel, (await ticket(auth, [channel])).ticket, {
      since: '1000',
      epoch: String(jump!.epoch),
    });
    expect((await near.waitFor('event', 3)).map((e) => e.offset)).toEqual([1_001, 1_002, 1_003]);
    wrongEpoch.ws!.close(1000);
    late.ws!.close(1000);
    gap.ws!.close(1000);
    near.ws!.close(1000);
  });

  it('announces joins and leaves and lists who is connected, with user and device', async () => {
    const { auth, orgId, member } = await signedIn('rt-presence');
    const channel = `org:${orgId}`;
    const watcher = await connect(channel, (await ticket(auth, [channel], 'laptop')).ticket);
    await watcher.waitFor('welcome');
    const colleague = await createMember(orgId, 'viewer');
    const colleagueAuth = bearer((await tokenFor(colleague)).token);
    const joiner = await connect(channel, (await ticket(colleagueAuth, [channel], 'phone')).ticket);
    const [joined] = await watcher.waitFor('presence.join');
    expect(joined!.member).toMatchObject({ user_id: colleague.userId, device: 'phone' });
    const presence = await call(`/v1/realtime/channels/${encodeURIComponent(channel)}/presence`, {
      headers: auth,
    });
    expect(presence.status).toBe(200);
    const body = (await presence.json()) as { members: { user_id: string; device: string }[] };
    expect(body.members.map((m) => [m.user_id, m.device]).sort()).toEqual(
      [
        [member.userId, 'laptop'],
        [colleague.userId, 'phone'],
      ].sort(),
    );
    joiner.ws!.close(1000, 'bye');
    const [left] = await watcher.waitFor('presence.leave');
    expect(left!.member).toMatchObject({ user_id: colleague.userId });
    await eventually(async () => {
      const now = (await (
        await call(`/v1/realtime/channels/${encodeURIComponent(channel)}/presence`, {
          headers: auth,
        })
      ).json()) as { members: unknown[] };
      return now.members.length === 1;
    });
    const other = await signedIn('rt-presence-other');
    await expectProblem(
      await call(`/v1/realtime/channels/${encodeURIComponent(channel)}/presence`, {
        headers: other.auth,
      }),
      404,
    );
    watcher.ws!.close(1000);
  });

  it('keeps presence and offsets through hibernation: members, events, leaves', async () => {
    const { auth, orgId } = await signedIn('rt-hibernate');
    const channel = `org:${orgId}`;
    const a = await connect(channel, (await ticket(auth, [channel], 'desk')).ticket);
    const b = await connect(channel, (await ticket(auth, [channel], 'tablet')).ticket);
    await a.waitFor('presence.join');
    await publish(channel, ['h1']);
    const [before] = await b.waitFor('event');
    const channelObject = env.REALTIME.get(env.REALTIME.idFromName(channel));
    // The instance goes away (its memory with it); the sockets hibernate and stay open.
    await evictDurableObject(channelObject);
    const presence = async () =>
      (await (
        await call(`/v1/realtime/channels/${encodeURIComponent(channel)}/presence`, {
          headers: auth,
        })
      ).json()) as { offset: number; members: { device: string; connection_id: string }[] };
    const woken = await presence();
    expect(woken.members.map((m) => m.device).sort()).toEqual(['desk', 'tablet']);
    expect(woken.offset).toBe(before!.offset);
    // A fresh instance numbers on from where the channel was, and reaches both sockets.
    await publish(channel, ['h2']);
    const [afterA] = (await a.waitFor('event', 2)).slice(1);
    const [afterB] = (await b.waitFor('event', 2)).slice(1);
    expect([afterA!.offset, afterB!.offset]).toEqual([
      (before!.offset as number) + 1,
      (before!.offset as number) + 1,
    ]);
    expect(afterA!.epoch).toBe(before!.epoch);
    // A socket that closes after the wake is announced and leaves the list.
    await evictDurableObject(channelObject);
    b.ws!.close(1000, 'bye');
    const [left] = await a.waitFor('presence.leave');
    expect(left!.member).toMatchObject({ device: 'tablet' });
    await eventually(async () => (await presence()).members.length === 1);
    a.ws!.close(1000);
  });

  it('closes the connections of a session when it is revoked (4001), and only those', async () => {
    const { orgId } = await signedIn('rt-revoke');
    const channel = `org:${orgId}`;
    const member = await createMember(orgId, 'viewer');
    const doomed = await tokenFor(member);
    const kept = await tokenFor(member);
    const ws = await connect(channel, (await ticket(bearer(doomed.token), [channel])).ticket);
    await ws.waitFor('welcome');
    const params = new URLSearchParams({
      channel,
      ticket: (await ticket(bearer(doomed.token), [channel])).ticket,
    });
    const stream = await call(`/v1/realtime/connect?${params}`, {
      headers: { Accept: 'text/event-stream' },
    });
    expect(stream.status).toBe(200);
    const reader = stream.body!.getReader();
    const other = await connect(channel, (await ticket(bearer(kept.token), [channel])).ticket);
    await other.waitFor('welcome');
    await env.SESSIONS.get(env.SESSIONS.idFromName(member.userId)).revoke(doomed.sessionId);
    await eventually(async () => ws.closed());
    expect(ws.closed()).toMatchObject({ code: 4001, reason: 'session ended' });
    // The event stream ends too: read until it does (or fails), within the deadline.
    await eventually(async () => {
      try {
        return (await reader.read()).done;
      } catch {
        return true;
      }
    });
    // The user's other session still hears.
    await publish(channel, ['after-revoke']);
    const [heard] = await other.waitFor('event');
    expect((heard!.event as { id: string }).id).toBe('after-revoke');
    expect(other.closed()).toBeNull();
    other.ws!.close(1000);
  });

  it('closes a WebSocket that stops pinging (4002) and announces it at once; pinging ones stay', async () => {
    const { auth, orgId } = await signedIn('rt-heartbeat');
    const channel = `org:${orgId}`;
    const fast = { REALTIME_HEARTBEAT_SECONDS: '1' };
    const silent = await connect(
      channel,
      (await ticket(auth, [channel], 'silent')).ticket,
      {},
      fast,
    );
    const alive = await connect(channel, (await ticket(auth, [channel], 'alive')).ticket, {}, fast);
    let pongs = 0;
    alive.ws!.addEventListener('message', (e) => {
      if (e.data === 'pong') pongs++;
    });
    const pinger = setInterval(() => alive.ws!.send('ping'), 200);
    try {
      // Events keep coming; each publish looks for silent sockets (at most once a second).
      let n = 0;
      await eventually(async () => {
        await publish(channel, [`hb${n++}`]);
        return silent.closed();
      });
      expect(silent.closed()).toMatchObject({ code: 4002, reason: 'no ping for 1 s' });
      const [left] = await alive.waitFor('presence.leave');
      expect(left!.member).toMatchObject({ device: 'silent' });
      expect(pongs).toBeGreaterThan(0);
      const now = await env.REALTIME.get(env.REALTIME.idFromName(channel)).presence();
      expect(now.members.map((m) => m.device)).toEqual(['alive']);
      expect(now.members[0]).not.toHaveProperty('heartbeat_ms');
      await publish(channel, ['hb-after']);
      await eventually(async () =>
        alive.of('event').some((e) => (e.event as { id: string }).id === 'hb-after'),
      );
      expect(alive.closed()).toBeNull();
    } finally {
      clearInterval(pinger);
      alive.ws!.close(1000);
    }
  });

  it('closes a connection that sends an oversized message (1009) and refuses past the limit', async () => {
    const { auth, orgId } = await signedIn('rt-limits');
    const channel = `org:${orgId}`;
    const client = await connect(channel, (await ticket(auth, [channel])).ticket);
    client.ws!.send('x'.repeat(5_000));
    await eventually(async () => client.closed());
    expect(client.closed()).toMatchObject({ code: 1009 });
    const a = await connect(channel, (await ticket(auth, [channel])).ticket);
    expect(a.response.status).toBe(101);
    const params = new URLSearchParams({ channel, ticket: (await ticket(auth, [channel])).ticket });
    const over = await call(
      `/v1/realtime/connect?${params}`,
      { headers: { Upgrade: 'websocket' } },
      { REALTIME_MAX_CONNECTIONS: '1' },
    );
    const problem = await expectProblem(over, 429);
    expect(problem.detail).toContain('1 connections');
    a.ws!.close(1000);
  });
});

describe('server-sent events', () => {
  it('streams events with id <epoch>:<offset> and resumes from Last-Event-ID', async () => {
    const { auth, orgId } = await signedIn('rt-sse');
    const channel = `org:${orgId}`;
    const open = async (headers: Record<string, string> = {}) => {
      const params = new URLSearchParams({
        channel,
        ticket: (await ticket(auth, [channel])).ticket,
      });
      const response = await call(`/v1/realtime/connect?${params}`, {
        headers: { Accept: 'text/event-stream', ...headers },
      });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
      const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
      let text = '';
      return {
        async until(pattern: RegExp) {
          const deadline = Date.now() + 10_000;
          while (!pattern.test(text)) {
            if (Date.now() > deadline) throw new Error(`no ${pattern} in ${text}`);
            const { value, done } = await reader.read();
            if (done) break;
            text += value;
          }
          return text;
        },
        close: () => reader.cancel(),
      };
    };
    const stream = await open();
    await stream.until(/event: welcome/);
    await publish(channel, ['s1', 's2']);
    const text = await stream.until(/"s2"/);
    const ids = [...text.matchAll(/^id: (\S+)$/gm)].map((m) => m[1]!);
    expect(ids).toHaveLength(2);
    await stream.close();
    await publish(channel, ['s3']);
    const resumed = await open({ 'Last-Event-ID': ids[0]! });
    const again = await resumed.until(/"s3"/);
    expect([...again.matchAll(/"id":"(s\d)"/g)].map((m) => m[1])).toEqual(['s2', 's3']);
    await resumed.close();
  });
});
