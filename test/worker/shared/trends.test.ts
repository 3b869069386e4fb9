import { describe, expect, it } from 'vitest';
import {
  CLUSTER_DEFAULTS,
  type ClusterTopic,
  clusterStep,
  dot,
  type Member,
  normalise,
  twoGroups,
} from '../../../shared/trends/cluster.ts';
import { topicKeywords } from '../../../shared/trends/keywords.ts';
import {
  type Bucket,
  lifecycleOf,
  MIN_SUPPORT,
  SCORE_DEFAULTS,
  scoreSeries,
  scoreTopic,
} from '../../../shared/trends/score.ts';

const DIMS = 16;

/** A unit vector near axis `axis` (and a little of `other`), deterministic per `seed`. */
function planted(axis: number, seed: number, other?: number, share = 0): number[] {
  const v = new Array<number>(DIMS).fill(0);
  v[axis] = 1;
  if (other !== undefined) v[other] = share;
  // A small, fixed wobble so members are not identical.
  v[(axis + 1 + (seed % 3)) % DIMS] = (v[(axis + 1 + (seed % 3)) % DIMS] ?? 0) + 0.15;
  return normalise(v);
}

const member = (id: string, vector: number[], at: number): Member => ({ id, vector, at });

function sequence(prefix = 'top') {
  let n = 0;
  return () => `${prefix}-${n++}`;
}

/** Members of each topic, by topic id, sorted. */
const shape = (topics: readonly ClusterTopic[]) =>
  Object.fromEntries(topics.map((t) => [t.id, t.members.map((m) => m.id).sort()]));

describe('clusterStep', () => {
  it('keeps a topic’s id as it grows over runs, and starts topics for what is far', () => {
    const ids = sequence();
    const first = clusterStep(
      [],
      [
        member('a1', planted(0, 1), 1),
        member('a2', planted(0, 2), 2),
        member('b1', planted(5, 1), 3),
      ],
      CLUSTER_DEFAULTS,
      ids,
      10,
    );
    expect(shape(first.topics)).toEqual({ 'top-0': ['a1', 'a2'], 'top-1': ['b1'] });
    expect(first.changes.map((c) => c.kind).sort()).toEqual(['created', 'created']);

    const second = clusterStep(
      first.topics,
      [member('a3', planted(0, 3), 4), member('a4', planted(0, 4), 5)],
      CLUSTER_DEFAULTS,
      ids,
      20,
    );
    expect(shape(second.topics)).toEqual({ 'top-0': ['a1', 'a2', 'a3', 'a4'], 'top-1': ['b1'] });
    expect(second.changes).toEqual([{ kind: 'grew', topicId: 'top-0', size: 4, added: 2 }]);
    expect([...second.changed]).toEqual(['top-0']);

    // The same input gives the same output (deterministic), whatever the items' order.
    const again = clusterStep(
      first.topics,
      [member('a4', planted(0, 4), 5), member('a3', planted(0, 3), 4)],
      CLUSTER_DEFAULTS,
      sequence('other'),
      20,
    );
    expect(shape(again.topics)).toEqual(shape(second.topics));
  });

  it('merges two topics whose centroids come close, the larger keeping its id, and records it', () => {
    // Two topics apart at first (axes 0 and 1 mixed differently), then items in between pull
    // their centroids together.
    const older: ClusterTopic = {
      id: 'top-old',
      createdAt: 1,
      members: [1, 2, 3].map((i) => member(`o${i}`, planted(0, i, 1, 0.3), i)),
    };
    const younger: ClusterTopic = {
      id: 'top-young',
      createdAt: 2,
      members: [1, 2].map((i) => member(`y${i}`, planted(1, i, 0, 0.3), 10 + i)),
    };
    const options = { ...CLUSTER_DEFAULTS, merge: 0.7 };
    expect(dot(older.members[0]!.vector, younger.members[0]!.vector)).toBeLessThan(options.merge);
    const bridge = [1, 2, 3, 4].map((i) =>
      member(`m${i}`, normalise([1, 1, ...Array(DIMS - 2).fill(0)]), 20 + i),
    );
    const result = clusterStep([older, younger], bridge, options, sequence(), 30);
    expect(result.merged).toEqual([{ id: 'top-young', into: 'top-old' }]);
    expect(shape(result.topics)).toEqual({
      'top-old': ['m1', 'm2', 'm3', 'm4', 'o1', 'o2', 'o3', 'y1', 'y2'],
    });
    expect(result.changes).toContainEqual({
      kind: 'merged',
      topicId: 'top-young',
      into: 'top-old',
      size: 2,
    });
    expect(result.changes).toContainEqual(
      expect.objectContaining({ kind: 'absorbed', topicId: 'top-old', from: 'top-young' }),
    );
  });

  it('splits a topic whose members form two separated groups, the larger keeping its id', () => {
    // A topic that held two stories: four items near axis 2, three near axis 9, and a centroid
    // between them that once took both in.
    const topic: ClusterTopic = {
      id: 'top-mixed',
      createdAt: 1,
      members: [
        ...[1, 2, 3, 4].map((i) => member(`p${i}`, planted(2, i), i)),
        ...[1, 2].map((i) => member(`q${i}`, planted(9, i), 10 + i)),
      ],
    };
    const result = clusterStep(
      [topic],
      [member('q3', planted(9, 3), 20)],
      { ...CLUSTER_DEFAULTS, assign: 0.3 },
      sequence('top-new'),
      30,
    );
    expect(shape(result.topics)).toEqual({
      'top-mixed': ['p1', 'p2', 'p3', 'p4'],
      'top-new-0': ['q1', 'q2', 'q3'],
    });
    expect(result.changes).toContainEqual({
      kind: 'split',
      topicId: 'top-mixed',
      to: 'top-new-0',
      size: 4,
    });
    expect(result.changes).toContainEqual({
      kind: 'split_from',
      topicId: 'top-new-0',
      from: 'top-mixed',
      size: 3,
    });
  });

  it('does not split a tight topic, nor one too small for two parts', () => {
    const tight = [1, 2, 3, 4, 5, 6, 7].map((i) => member(`t${i}`, planted(4, i), i));
    expect(twoGroups(tight, CLUSTER_DEFAULTS)).toBeUndefined();
    const small = [member('a', planted(1, 1), 1), member('b', planted(8, 1), 2)];
    expect(twoGroups(small, CLUSTER_DEFAULTS)).toBeUndefined();
  });
});

describe('topicKeywords', () => {
  it('ranks words frequent in one topic and rare in the others, per language, as written', () => {
    const keywords = topicKeywords(
      new Map([
        [
          'solar',
          [
            'Solar panels on city rooftops',
            'Solar panels cut the bills',
            'الألواح الشمسية على أسطح المنازل',
            'الألواح الشمسية توفر الكهرباء',
          ],
        ],
        ['football', ['The football final', 'A football final with penalties', 'نهائي كرة القدم']],
      ]),
      3,
    );
    expect(keywords.get('solar')?.en.slice(0, 2).sort()).toEqual(['panels', 'solar']);
    expect(keywords.get('solar')?.ar).toContain('الشمسيه');
    expect(keywords.get('football')?.en.slice(0, 2).sort()).toEqual(['final', 'football']);
    expect(keywords.get('football')?.en).not.toContain('the');
  });
});

/** `hours` quiet hours of `level` activity (alternating ±1 so the variance is not zero). */
const quiet = (hours: number, level: number): Bucket[] =>
  Array.from({ length: hours }, (_, i) => ({ newItems: 0, engagement: level + (i % 2 ? 1 : -1) }));
const burst = (levels: number[]): Bucket[] =>
  levels.map((engagement) => ({ newItems: 1, engagement }));

describe('scoreSeries and lifecycles', () => {
  it('finds a burst against the topic’s own baseline, and not a steady busy topic', () => {
    const steady = scoreTopic(quiet(72, 200));
    expect(steady.significant).toBe(false);
    expect(steady.lifecycle).toBeNull();
    const small = [...quiet(72, 3), ...burst([25, 30])];
    const result = scoreTopic(small);
    expect(result.significant).toBe(true);
    expect(result.score).toBeGreaterThan(SCORE_DEFAULTS.z);
    expect(result.lifecycle).toBe('emerging');
  });

  it('needs the minimum support and more than one hour’s spike', () => {
    // From nothing to 6: far above a baseline of 0, but under the support floor.
    expect(
      scoreTopic([...quiet(72, 0).map(() => ({ newItems: 0, engagement: 0 })), ...burst([1, 1])])
        .significant,
    ).toBe(false);
    expect(MIN_SUPPORT).toBeGreaterThan(6);
    // One viral hour, then back to normal: not sustained.
    expect(
      scoreTopic([...quiet(72, 5), { newItems: 0, engagement: 60 }, { newItems: 0, engagement: 5 }])
        .significant,
    ).toBe(false);
  });

  it('goes emerging → rising → peaking → declining over a burst', () => {
    const base = quiet(72, 4);
    const levels = [20, 30, 45, 60, 62, 50, 40, 12, 6];
    const phases = levels.map((_, k) =>
      lifecycleOf(scoreSeries([...base, ...burst(levels.slice(0, k + 1))])),
    );
    expect(phases[0]).toBeNull(); // one hour is not yet sustained over the window
    expect(phases[1]).toBe('emerging');
    expect(phases.slice(3, 5)).toEqual(['rising', 'rising']);
    expect(phases).toContain('peaking');
    expect(phases.at(-1)).toBe('declining');
    // After a week without a significant hour, no lifecycle.
    const later = scoreSeries([...base, ...burst(levels), ...quiet(7 * 24, 4)]);
    expect(lifecycleOf(later)).toBeNull();
  });

  it('scores an unfinished hour at its pace', () => {
    const series = [...quiet(72, 4), ...burst([30]), { newItems: 0, engagement: 8 }];
    const quarter = scoreSeries(series, SCORE_DEFAULTS, 0.25).at(-1)!;
    expect(quarter.fraction).toBe(0.25);
    expect(quarter.mean).toBeLessThan(scoreSeries(series, SCORE_DEFAULTS, 1).at(-1)!.mean);
  });
});
