import { createRandom } from '../../../shared/random.ts';

/**
 * Sample engagement with planted structure, so that popularity, neighbours and recommendations
 * (`GET /v1/recommendations?anonymous_id=sample-reader-0`) show something meaningful the moment
 * `npm run dev` is up:
 *
 * - {@link READERS} anonymous readers, each with one or two favourite categories and a
 *   language; each comes back for one to three sessions over the last {@link DAYS} days;
 * - a session reads three to seven items, seven in ten from the reader's favourites, the rest
 *   from anywhere;
 * - co-read pairs: the published items of each category are paired in order (first with second,
 *   third with fourth…); a reader of one item of a pair goes on to its partner six times in ten,
 *   so each pair's co-engagement stands out from its category's;
 * - every read is a `content.viewed`; six in ten also a `content.dwell` (10–300 s), and some a
 *   `content.clicked` (2 in 10), `content.liked` (8 in 100) or `content.shared` (5 in 100);
 * - and, apart ({@link composeBurst}), a burst of reading on one story's items, so that
 *   `GET /v1/trending` has items rising and `GET /v1/trends` a topic.
 *
 * Deterministic (seeded) except for the times, which count back from `now`.
 */
export const READERS = 300;
export const DAYS = 14;
export const BURSTS = 3;
export const BURST_READERS = 40;

export type SampleEngagementItem = {
  id: string;
  category: string | null;
  /** What it is about (its subject's tags), and the locales it is written in. */
  tags?: readonly string[];
  locales?: readonly string[];
};

export type SampleEvent = {
  type: string;
  contentId: string;
  occurredAt: Date;
  anonymousId: string;
  sessionId: string;
  data: Record<string, unknown>;
};

const MINUTE = 60_000;

export function composeEngagement(
  items: readonly SampleEngagementItem[],
  now: Date,
  seed = 20_261_205,
): SampleEvent[] {
  if (items.length === 0) return [];
  const random = createRandom(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const byCategory = new Map<string, SampleEngagementItem[]>();
  for (const item of items) {
    const key = item.category ?? '';
    byCategory.set(key, [...(byCategory.get(key) ?? []), item]);
  }
  const partner = new Map<string, SampleEngagementItem>();
  for (const list of byCategory.values()) {
    for (let i = 0; i + 1 < list.length; i += 2) {
      partner.set(list[i]!.id, list[i + 1]!);
      partner.set(list[i + 1]!.id, list[i]!);
    }
  }
  const categories = [...byCategory.keys()];
  const events: SampleEvent[] = [];
  for (let r = 0; r < READERS; r++) {
    const favourites = [pick(categories), ...(random() < 0.5 ? [pick(categories)] : [])];
    const locale = random() < 0.5 ? 'ar' : 'en';
    const sessions = 1 + Math.floor(random() * 3);
    for (let s = 0; s < sessions; s++) {
      const start = now.getTime() - random() * DAYS * 86_400_000;
      const sessionId = `sample-session-${r}-${s}`;
      const reads: SampleEngagementItem[] = [];
      const length = 3 + Math.floor(random() * 5);
      while (reads.length < length) {
        const pool = random() < 0.7 ? byCategory.get(pick(favourites))! : items;
        const item = pick(pool);
        reads.push(item);
        const pair = partner.get(item.id);
        if (pair && reads.length < length && random() < 0.6) reads.push(pair);
      }
      reads.forEach((item, k) => {
        const at = new Date(Math.min(now.getTime() - MINUTE, start + k * 3 * MINUTE));
        const base = {
          contentId: item.id,
          occurredAt: at,
          anonymousId: `sample-reader-${r}`,
          sessionId,
          data: { sample: true, locale },
        };
        events.push({ ...base, type: 'content.viewed' });
        if (random() < 0.6) {
          const duration = 10_000 + Math.floor(random() * 290_000);
          events.push({
            ...base,
            type: 'content.dwell',
            data: { ...base.data, duration_ms: duration },
          });
        }
        const roll = random();
        if (roll < 0.2) events.push({ ...base, type: 'content.clicked' });
        else if (roll < 0.28) events.push({ ...base, type: 'content.liked' });
        else if (roll < 0.33) events.push({ ...base, type: 'content.shared' });
      });
    }
  }
  return events;
}

/** How recent a burst must be for the seed not to add another. */
export const BURST_HOURS = 6;

/**
 * The items a burst reads: one story's, so that they form one topic (`GET /v1/trends`) as well
 * as trending items. The story is the subject (tags) with the most items written in both
 * languages (the local embedding model is not multilingual, so a story's Arabic-only and
 * English-only items would be topics apart), the one with the newest item on a tie; up to
 * newest {@link BURSTS} + 1 of its bilingual items. Without such a story, the newest items.
 */
export function burstItems(items: readonly SampleEngagementItem[]): SampleEngagementItem[] {
  const stories = new Map<string, SampleEngagementItem[]>();
  items.forEach((item) => {
    if (!item.tags?.length || item.locales?.length !== 2) return;
    const key = [...item.tags].sort().join(',');
    stories.set(key, [...(stories.get(key) ?? []), item]);
  });
  const newest = (list: readonly SampleEngagementItem[]) =>
    Math.max(...list.map((item) => items.indexOf(item)));
  const story = [...stories.values()].sort(
    (a, b) => b.length - a.length || newest(b) - newest(a),
  )[0];
  if (!story || story.length < 2) return items.slice(-BURSTS);
  return story.slice(-(BURSTS + 1));
}

/**
 * A burst: the {@link burstItems} (of `items`, oldest first) read by {@link BURST_READERS}
 * readers each in the last {@link BURST_HOURS} hours, one in five of them sharing it. The seed
 * adds one whenever the last is older than that, so trending shows something on kept data too.
 */
export function composeBurst(
  items: readonly SampleEngagementItem[],
  now: Date,
  seed = 20_261_206,
): SampleEvent[] {
  const random = createRandom(seed);
  const events: SampleEvent[] = [];
  const stamp = now.getTime();
  for (const [b, item] of burstItems(items).entries()) {
    for (let r = 0; r < BURST_READERS; r++) {
      const base = {
        contentId: item.id,
        occurredAt: new Date(stamp - MINUTE - random() * (BURST_HOURS * 60 - 1) * MINUTE),
        anonymousId: `sample-burst-reader-${stamp}-${b}-${r}`,
        sessionId: `sample-burst-session-${stamp}-${b}-${r}`,
        data: { sample: true, sample_burst: true, locale: random() < 0.5 ? 'ar' : 'en' },
      };
      events.push({ ...base, type: 'content.viewed' });
      if (random() < 0.2) events.push({ ...base, type: 'content.shared' });
    }
  }
  return events;
}
