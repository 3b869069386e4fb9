import { describe, expect, it } from 'vitest';
import { embedText } from '../../shared/embeddings/local.ts';
import { ENGAGEMENT_WEIGHTS } from '../../shared/search/features.ts';
import { denseText } from '../../shared/search/records.ts';
import {
  CLUSTER_DEFAULTS,
  clusterStep,
  type Member,
  normalise,
} from '../../shared/trends/cluster.ts';
import { type Bucket, scoreTopic } from '../../shared/trends/score.ts';
import { MIN_TOPIC_ITEMS, SERIES_DAYS, TOPIC_WINDOW_DAYS } from '../../shared/trends/settings.ts';
import { composeSampleItems } from '../../tools/db/sample-data/compose.ts';
import {
  BURST_READERS,
  burstItems,
  composeBurst,
  composeEngagement,
} from '../../tools/db/sample-data/engagement.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/**
 * What `npm run dev` shows in `GET /v1/trends` as soon as it is up (its first compute-trends
 * run): the sample's published items and engagement, clustered and scored as the job does it
 * (`shared/trends/compute.ts`), in process with the local embedding model that dev uses.
 */
describe('the sample data', () => {
  it('makes one story a trend: its items in one topic, significant now', () => {
    const now = new Date(Math.floor(Date.now() / HOUR) * HOUR + 20 * 60_000);
    // As the seed stores them: published items, oldest created first.
    const published = composeSampleItems()
      .map((item, i) => ({ item, id: `cnt-${String(i).padStart(3, '0')}` }))
      .filter(({ item }) => item.status === 'published')
      .sort((a, b) => b.item.ageDays - a.item.ageDays);
    const engagementItems = published.map(({ item, id }) => ({
      id,
      category: item.category,
      tags: item.tags,
      locales: Object.keys(item.translations).sort(),
    }));
    const events = [
      ...composeEngagement(engagementItems, now),
      ...composeBurst(engagementItems, now),
    ];
    const story = burstItems(engagementItems).map((i) => i.id);
    expect(story.length).toBeGreaterThanOrEqual(3);
    expect(new Set(events.filter((e) => e.data.sample_burst).map((e) => e.contentId))).toEqual(
      new Set(story),
    );

    // The job's window: published or engaged with in the last 7 days.
    const since = now.getTime() - TOPIC_WINDOW_DAYS * DAY;
    const engaged = new Set(
      events.filter((e) => e.occurredAt.getTime() >= since).map((e) => e.contentId),
    );
    const publishedAt = (item: (typeof published)[number]['item']) =>
      now.getTime() - (item.ageDays - (item.publishedAfterDays ?? 0)) * DAY;
    const members: Member[] = published
      .filter(({ item, id }) => engaged.has(id) || publishedAt(item) >= since)
      .map(({ item, id }) => {
        const sum = new Array<number>(384).fill(0);
        for (const t of Object.values(item.translations)) {
          const v = embedText(denseText(t));
          for (let d = 0; d < 384; d++) sum[d]! += v[d]!;
        }
        return { id, vector: normalise(sum), at: publishedAt(item) };
      });
    const { topics } = clusterStep([], members, CLUSTER_DEFAULTS, () => `t${Math.random()}`, 0);
    const storyTopic = topics.find((t) => t.members.some((m) => m.id === story[0]));
    expect(storyTopic?.members.map((m) => m.id)).toEqual(expect.arrayContaining(story));
    expect(storyTopic!.members.length).toBeGreaterThanOrEqual(MIN_TOPIC_ITEMS);

    // Its hourly series over 14 days, and its score now.
    const hours = SERIES_DAYS * 24;
    const currentHour = Math.floor(now.getTime() / HOUR) * HOUR;
    const start = currentHour - (hours - 1) * HOUR;
    const series: Bucket[] = Array.from({ length: hours }, () => ({ newItems: 0, engagement: 0 }));
    const inTopic = new Set(storyTopic!.members.map((m) => m.id));
    for (const m of storyTopic!.members) {
      const i = Math.floor((m.at - start) / HOUR);
      if (i >= 0 && i < hours) series[i]!.newItems++;
    }
    for (const e of events) {
      const i = Math.floor((e.occurredAt.getTime() - start) / HOUR);
      if (inTopic.has(e.contentId) && i >= 0 && i < hours) {
        series[i]!.engagement += ENGAGEMENT_WEIGHTS[e.type] ?? 0;
      }
    }
    const score = scoreTopic(series, undefined, (now.getTime() - currentHour) / HOUR);
    // Significant since the burst began (at most six hours ago), and trending now: the job
    // lists it and sends trend.detected on its first run.
    expect(score.lastSignificant).toBeGreaterThanOrEqual(hours - 7);
    expect(['emerging', 'rising', 'peaking']).toContain(score.lifecycle);
    expect(BURST_READERS).toBeGreaterThanOrEqual(40);
  });
});
