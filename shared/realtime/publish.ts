import type { Services } from '../services.ts';
import type { ChannelEvent } from './channels.ts';

/** What publishing needs. */
type PublishServices = Pick<Services, 'env' | 'redis' | 'logger'>;

/** How long a channel stays listened-to after its last ticket (a day). */
export const ACTIVE_CHANNEL_SECONDS = 86_400;

/** The Redis key that says a channel has had a ticket lately. */
export const activeChannelKey = (channel: string) => `rt:active:${channel}`;

/**
 * Which of `channels` are listened to, in one Redis call: an organisation's channel always; an
 * item's, user's or operation's once a ticket was issued for it in the last day
 * (`rt:active:<channel>`). When Redis cannot say, every one is.
 */
export async function listenedChannels(
  services: PublishServices,
  channels: string[],
): Promise<Set<string>> {
  const listened = new Set(channels.filter((channel) => channel.startsWith('org:')));
  const optional = [...new Set(channels)].filter((channel) => !listened.has(channel));
  if (optional.length === 0) return listened;
  const active = await services.redis
    .mget<(number | null)[]>(...optional.map(activeChannelKey))
    .catch((error: unknown) => {
      services.logger.warn('realtime: could not tell which channels are listened to', { error });
      return optional.map(() => 1);
    });
  optional.forEach((channel, i) => {
    if (active[i] !== null) listened.add(channel);
  });
  return listened;
}

/**
 * Publishes events to their channels: one call to each channel's `REALTIME` object with all of
 * its events, in order, the channels in parallel. Publishing is idempotent per channel and event
 * id, so a redelivered message publishes nothing twice. Throws when a channel cannot be reached.
 *
 * An organisation's channel always gets its events. An item's, user's or operation's channel
 * gets them only once a ticket was issued for it in the last day (`rt:active:<channel>`, set by
 * `POST /v1/realtime/tickets` before the ticket is answered, so a client never misses an event
 * after asking): a write must not wake an object per item that nobody listens to. When Redis
 * cannot say, every channel gets its events. A caller that asked already
 * ({@link listenedChannels}) passes what it learnt as `listened`.
 */
export async function publishToChannels(
  services: PublishServices,
  items: { channel: string; event: ChannelEvent }[],
  options: { listened?: ReadonlySet<string> } = {},
): Promise<number> {
  const byChannel = new Map<string, ChannelEvent[]>();
  for (const { channel, event } of items) {
    const list = byChannel.get(channel) ?? [];
    list.push(event);
    byChannel.set(channel, list);
  }
  const listened = options.listened ?? (await listenedChannels(services, [...byChannel.keys()]));
  for (const channel of byChannel.keys()) if (!listened.has(channel)) byChannel.delete(channel);
  const namespace = services.env.REALTIME;
  const results = await Promise.all(
    [...byChannel].map(([channel, events]) =>
      namespace.get(namespace.idFromName(channel)).publish(channel, events),
    ),
  );
  return results.reduce((n, r) => n + r.offsets.length, 0);
}

/**
 * Publishes an operation's progress or end on its channel (`operation:<id>`), if anyone asked
 * for it. Best effort: the operation itself (`GET /v1/operations/{id}`) is the record, so a
 * failure is logged, never thrown.
 */
export async function publishOperation(
  services: PublishServices,
  operationId: string,
  type: 'operation.progress' | 'operation.completed',
  data: Record<string, unknown>,
  eventId: string,
): Promise<void> {
  await publishToChannels(services, [
    {
      channel: `operation:${operationId}`,
      event: { id: eventId, type, occurred_at: new Date().toISOString(), data },
    },
  ]).catch((error: unknown) => {
    services.logger.warn('operation event not published to its channel', {
      operation_id: operationId,
      type,
      error,
    });
  });
}
