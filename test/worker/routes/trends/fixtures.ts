import { topics } from '../../../../shared/db/schema/index.ts';
import { newId } from '../../../../shared/ids.ts';
import type { Lifecycle } from '../../../../shared/trends/score.ts';
import { testDb } from '../../helpers.ts';

/** A topic straight in Postgres (what the job would have written), trending unless told not. */
export async function insertTopic(
  orgId: string,
  options: {
    label?: string;
    lifecycle?: Lifecycle | null;
    score?: number;
    categoryId?: string | null;
    locales?: string[];
    lastSignificantAt?: Date | null;
    keywords?: { ar: string[]; en: string[] };
  } = {},
): Promise<string> {
  const id = newId('topic');
  const now = new Date();
  await testDb()
    .insert(topics)
    .values({
      id,
      orgId,
      label: options.label ?? 'A topic',
      keywords: options.keywords ?? { ar: [], en: ['topic'] },
      centroid: [1, 0, 0],
      size: 3,
      categoryId: options.categoryId ?? null,
      locales: options.locales ?? ['en'],
      firstSeen: now,
      lastSeen: now,
      score: options.score ?? 6,
      lifecycle: options.lifecycle === undefined ? 'rising' : options.lifecycle,
      lastSignificantAt: options.lastSignificantAt === undefined ? now : options.lastSignificantAt,
      scoredAt: now,
    });
  return id;
}
