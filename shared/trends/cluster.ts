/**
 * Incremental, deterministic clustering of items into topics by their dense vectors, with stable
 * topic ids (a topic keeps its id as it grows; merges and splits are recorded, never a silent
 * renumbering, the failure of BERTopic's online mode: BERTopic#946).
 *
 * One step ({@link clusterStep}) takes the organisation's active topics (each with its members'
 * vectors) and the items not yet in any topic, and:
 *
 * 1. assigns each new item, oldest first, to the active topic whose centroid is nearest, when the
 *    cosine is at least `assign`; otherwise the item starts a topic of its own. The centroid moves
 *    with each member (the normalised mean of the members' vectors);
 * 2. merges topics whose centroids came within `merge` of each other, closest pair first: the
 *    larger (then the older) keeps its id and takes the other's members; the other is `merged`
 *    into it;
 * 3. splits a topic that grew when its members form two separated groups: 2-means seeded with
 *    the member farthest from the centroid and the member farthest from that one; accepted when
 *    each group has at least `minSplitPart` members, the two group centroids' cosine is below
 *    `split`, and each group is tighter around its own centroid than the whole was. The larger
 *    group keeps the id; the smaller becomes a new topic.
 *
 * Pure: the same input (and the same `newId` sequence) gives the same output. Vectors are unit
 * length (the embedding provider normalises them), so a dot product is a cosine.
 */

export type Vector = readonly number[];

export type Member = { id: string; vector: Vector; at: number };

export type ClusterTopic = {
  id: string;
  /** When the topic was created (ms): the older of two equals keeps its id in a merge. */
  createdAt: number;
  members: Member[];
};

/** What happened to a topic in a step, for its lineage. */
export type TopicChange =
  | { kind: 'created'; topicId: string; size: number }
  | { kind: 'grew'; topicId: string; size: number; added: number }
  | { kind: 'merged'; topicId: string; into: string; size: number }
  | { kind: 'absorbed'; topicId: string; from: string; size: number }
  | { kind: 'split'; topicId: string; to: string; size: number }
  | { kind: 'split_from'; topicId: string; from: string; size: number }
  | { kind: 'retired'; topicId: string; size: number };

export type ClusterOptions = {
  /** Least cosine between an item and a centroid for the item to join the topic. */
  assign: number;
  /** Cosine between two centroids at which the topics merge. */
  merge: number;
  /** Two groups inside a topic whose centroids' cosine is below this are split apart. */
  split: number;
  /** Fewest members each side of a split must have. */
  minSplitPart: number;
};

/**
 * Defaults for a multilingual sentence model (and the local feature-hashing model, calibrated
 * with `npm run bench:trends`): items about one story sit above 0.55 of their centroid; centroids
 * of two stories rarely come above 0.8.
 */
export const CLUSTER_DEFAULTS: ClusterOptions = {
  assign: 0.6,
  merge: 0.8,
  split: 0.45,
  minSplitPart: 3,
};

export type ClusterResult = {
  /** Every topic still active after the step (changed or not), with its members. */
  topics: ClusterTopic[];
  /** Topics merged into another in this step (no longer active). */
  merged: { id: string; into: string }[];
  /** The ids of the active topics whose members changed. */
  changed: Set<string>;
  changes: TopicChange[];
};

export function dot(a: Vector, b: Vector): number {
  let sum = 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) sum += a[i]! * b[i]!;
  return sum;
}

/** `v` scaled to unit length (a zero vector stays zero). */
export function normalise(v: Vector): number[] {
  const norm = Math.sqrt(dot(v, v));
  return norm > 0 ? v.map((x) => x / norm) : [...v];
}

/** The normalised mean of `vectors` (their sum, normalised). */
export function centroidOf(vectors: readonly Vector[]): number[] {
  const first = vectors[0];
  if (!first) return [];
  const sum = new Array<number>(first.length).fill(0);
  for (const v of vectors) for (let i = 0; i < sum.length; i++) sum[i]! += v[i] ?? 0;
  return normalise(sum);
}

/** Mean cosine of `members` to their own centroid: how tight a group is. */
export function cohesion(members: readonly Member[]): number {
  if (members.length === 0) return 0;
  const c = centroidOf(members.map((m) => m.vector));
  return members.reduce((s, m) => s + dot(m.vector, c), 0) / members.length;
}

const byAge = (a: Member, b: Member) => a.at - b.at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** A topic being worked on: its members, their running sum and the centroid it gives. */
type Working = { id: string; createdAt: number; members: Member[]; sum: number[]; c: number[] };

function working(topic: ClusterTopic): Working {
  const members = [...topic.members].sort(byAge);
  const dims = members[0]?.vector.length ?? 0;
  const sum = new Array<number>(dims).fill(0);
  for (const m of members) for (let i = 0; i < dims; i++) sum[i]! += m.vector[i] ?? 0;
  return { id: topic.id, createdAt: topic.createdAt, members, sum, c: normalise(sum) };
}

function add(topic: Working, member: Member) {
  topic.members.push(member);
  if (topic.sum.length === 0) topic.sum = new Array<number>(member.vector.length).fill(0);
  for (let i = 0; i < topic.sum.length; i++) topic.sum[i]! += member.vector[i] ?? 0;
  topic.c = normalise(topic.sum);
}

/** Whether `a` keeps its id over `b`: more members, then created earlier, then the smaller id. */
const keeps = (a: Working, b: Working) =>
  a.members.length !== b.members.length
    ? a.members.length > b.members.length
    : a.createdAt !== b.createdAt
      ? a.createdAt < b.createdAt
      : a.id < b.id;

/**
 * One clustering step over `topics` (the active ones) and `items` (in no topic yet). `newId`
 * names each topic the step creates; `now` is their creation time. See the module comment.
 */
export function clusterStep(
  topics: readonly ClusterTopic[],
  items: readonly Member[],
  options: ClusterOptions,
  newId: () => string,
  now: number,
): ClusterResult {
  const active = new Map<string, Working>(topics.map((t) => [t.id, working(t)]));
  const changes: TopicChange[] = [];
  const created = new Set<string>();
  const added = new Map<string, number>();
  const changed = new Set<string>();

  // 1. Assignment, oldest item first; ties between topics go to the older topic.
  for (const item of [...items].sort(byAge)) {
    let best: Working | undefined;
    let bestScore = Number.NEGATIVE_INFINITY;
    for (const topic of active.values()) {
      const score = dot(item.vector, topic.c);
      if (score > bestScore || (score === bestScore && best && keeps(topic, best))) {
        best = topic;
        bestScore = score;
      }
    }
    if (best && bestScore >= options.assign) {
      add(best, item);
      changed.add(best.id);
      if (!created.has(best.id)) added.set(best.id, (added.get(best.id) ?? 0) + 1);
      continue;
    }
    const topic: Working = { id: newId(), createdAt: now, members: [], sum: [], c: [] };
    add(topic, item);
    active.set(topic.id, topic);
    created.add(topic.id);
    changed.add(topic.id);
  }

  // 2. Merges, closest pair first, until no two centroids are within `merge`. Only pairs with a
  // topic that changed in this step can have come closer (the others were apart after the last
  // step), so only those are compared: |changed| × |topics|, not |topics|².
  const merged: { id: string; into: string }[] = [];
  for (;;) {
    const list = [...active.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
    let pair: [Working, Working] | undefined;
    let closest = options.merge;
    for (let i = 0; i < list.length; i++) {
      for (let j = i + 1; j < list.length; j++) {
        if (!changed.has(list[i]!.id) && !changed.has(list[j]!.id)) continue;
        const score = dot(list[i]!.c, list[j]!.c);
        if (score >= closest && (!pair || score > closest)) {
          pair = [list[i]!, list[j]!];
          closest = score;
        }
      }
    }
    if (!pair) break;
    const [keeper, gone] = keeps(pair[0], pair[1]) ? pair : [pair[1], pair[0]];
    for (const m of gone.members) add(keeper, m);
    keeper.members.sort(byAge);
    active.delete(gone.id);
    changed.delete(gone.id);
    changed.add(keeper.id);
    added.delete(gone.id);
    if (created.has(gone.id)) {
      // Born and merged in the same step: it never existed for anyone; its items simply joined.
      created.delete(gone.id);
      if (!created.has(keeper.id)) {
        added.set(keeper.id, (added.get(keeper.id) ?? 0) + gone.members.length);
      }
      continue;
    }
    merged.push({ id: gone.id, into: keeper.id });
    changes.push({ kind: 'merged', topicId: gone.id, into: keeper.id, size: gone.members.length });
    changes.push({
      kind: 'absorbed',
      topicId: keeper.id,
      from: gone.id,
      size: keeper.members.length,
    });
  }

  // 3. Splits of the topics that changed.
  for (const id of [...changed].sort()) {
    const topic = active.get(id);
    if (!topic) continue;
    const parts = twoGroups(topic.members, options);
    if (!parts) continue;
    const [big, small] = parts;
    const child: Working = { id: newId(), createdAt: now, members: [], sum: [], c: [] };
    for (const m of small) add(child, m);
    topic.members = [];
    topic.sum = [];
    for (const m of big) add(topic, m);
    active.set(child.id, child);
    changed.add(child.id);
    if (created.has(id)) {
      // A topic created in this step that is already two: both are simply created.
      created.add(child.id);
      continue;
    }
    changes.push({ kind: 'split', topicId: id, to: child.id, size: topic.members.length });
    changes.push({ kind: 'split_from', topicId: child.id, from: id, size: child.members.length });
  }

  for (const id of [...created].sort()) {
    const topic = active.get(id);
    if (topic) changes.push({ kind: 'created', topicId: id, size: topic.members.length });
  }
  for (const [id, count] of [...added].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const topic = active.get(id);
    if (topic && count > 0) {
      changes.push({ kind: 'grew', topicId: id, size: topic.members.length, added: count });
    }
  }
  return {
    topics: [...active.values()].map(({ id, createdAt, members }) => ({ id, createdAt, members })),
    merged,
    changed,
    changes,
  };
}

/**
 * The two separated groups `members` form, larger first, or undefined when they do not form
 * two (see the module comment: 2-means with farthest-point seeds, at most 20 rounds).
 */
export function twoGroups(
  members: readonly Member[],
  options: Pick<ClusterOptions, 'split' | 'minSplitPart'>,
): [Member[], Member[]] | undefined {
  if (members.length < 2 * options.minSplitPart) return undefined;
  const sorted = [...members].sort(byAge);
  const whole = centroidOf(sorted.map((m) => m.vector));
  const farthest = (from: Vector) =>
    sorted.reduce((best, m) => (dot(m.vector, from) < dot(best.vector, from) ? m : best));
  const seedA = farthest(whole);
  const seedB = farthest(seedA.vector);
  if (seedA === seedB) return undefined;
  let ca: Vector = seedA.vector;
  let cb: Vector = seedB.vector;
  let a: Member[] = [];
  let b: Member[] = [];
  for (let round = 0; round < 20; round++) {
    const nextA: Member[] = [];
    const nextB: Member[] = [];
    for (const m of sorted) (dot(m.vector, ca) >= dot(m.vector, cb) ? nextA : nextB).push(m);
    const same = nextA.length === a.length && nextA.every((m, i) => m === a[i]);
    a = nextA;
    b = nextB;
    if (same || a.length === 0 || b.length === 0) break;
    ca = centroidOf(a.map((m) => m.vector));
    cb = centroidOf(b.map((m) => m.vector));
  }
  if (a.length < options.minSplitPart || b.length < options.minSplitPart) return undefined;
  if (dot(centroidOf(a.map((m) => m.vector)), centroidOf(b.map((m) => m.vector))) >= options.split)
    return undefined;
  const before = cohesion(sorted);
  if (cohesion(a) <= before || cohesion(b) <= before) return undefined;
  // The larger group keeps the id; on a tie, the group holding the oldest member.
  const aFirst = a.length !== b.length ? a.length > b.length : a[0] === sorted[0];
  return aFirst ? [a, b] : [b, a];
}
