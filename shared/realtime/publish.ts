import type { Services } from '../services.ts';
import type { ChannelEvent } from './channels.ts';

/**
 * Publishes events to their channels: one call to each channel's `REALTIME` object with all of
 * its events, in order, the channels in parallel. Publishing is idempotent per channel and event
 * id, so a redelivered message publishes nothing twice. Throws when a channel cannot be reached.
 */
export async function publishToChannels(
  services: Services,
  items: { channel: string; event: ChannelEvent }[],
): Promise<number> {
  const byChannel = new Map<string, ChannelEvent[]>();
  for (const { channel, event } of items) {
    const list = byChannel.get(channel) ?? [];
    list.push(event);
    byChannel.set(channel, list);
  }
  const namespace = services.env.REALTIME;
  const results = await Promise.all(
    [...byChannel].map(([channel, events]) =>
      namespace.get(namespace.idFromName(channel)).publish(channel, events),
    ),
  );
  return results.reduce((n, r) => n + r.offsets.length, 0);
}
