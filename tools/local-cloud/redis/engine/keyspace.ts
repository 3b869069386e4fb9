import { E, fail } from './errors.ts';
import { SortedSet } from './sorted-set.ts';

export type StringEntry = { type: 'string'; value: string; seq: number };
export type HashEntry = { type: 'hash'; value: Map<string, string>; seq: number };
export type ListEntry = { type: 'list'; value: string[]; seq: number };
export type SetEntry = { type: 'set'; value: Set<string>; seq: number };
export type ZSetEntry = { type: 'zset'; value: SortedSet; seq: number };
export type Entry = StringEntry | HashEntry | ListEntry | SetEntry | ZSetEntry;
export type EntryType = Entry['type'];

/**
 * The database: key → entry, plus absolute expiry times (ms) kept apart as Redis does, so a key
 * without a TTL costs nothing extra. Expired keys vanish lazily on access and through `sweep()`.
 *
 * `seq` numbers keys in insertion order, which is also the `Map`'s iteration order; SCAN's cursor
 * is a seq, so a key that exists for the whole iteration is returned exactly once even while other
 * keys come and go.
 */
export class Keyspace {
  readonly data = new Map<string, Entry>();
  readonly expires = new Map<string, number>();
  private nextSeq = 1;
  private sweepCursor: Iterator<[string, number]> | undefined;
  /**
   * While a script or transaction runs Redis evaluates expiry against the time it started, so a
   * key cannot expire halfway through an atomic unit.
   */
  frozenNow: number | undefined;

  now(): number {
    return this.frozenNow ?? Date.now();
  }

  /** The live entry of a key, deleting it first if it has expired. */
  lookup(key: string): Entry | undefined {
    const entry = this.data.get(key);
    if (entry === undefined) return undefined;
    if (this.expires.size !== 0) {
      const at = this.expires.get(key);
      if (at !== undefined && at <= this.now()) {
        this.data.delete(key);
        this.expires.delete(key);
        return undefined;
      }
    }
    return entry;
  }

  exists(key: string): boolean {
    return this.lookup(key) !== undefined;
  }

  seq(): number {
    return this.nextSeq++;
  }

  /** Stores a new value for a key, keeping its place; drops the TTL unless `keepTtl`. */
  put(key: string, entry: Entry, keepTtl = false): void {
    const old = this.data.get(key);
    if (old !== undefined) entry.seq = old.seq;
    this.data.set(key, entry);
    if (!keepTtl && this.expires.size !== 0) this.expires.delete(key);
  }

  setString(key: string, value: string, keepTtl = false): void {
    const old = this.data.get(key);
    this.data.set(key, {
      type: 'string',
      value,
      seq: old === undefined ? this.nextSeq++ : old.seq,
    });
    if (!keepTtl && this.expires.size !== 0) this.expires.delete(key);
  }

  delete(key: string): boolean {
    if (this.lookup(key) === undefined) return false;
    this.data.delete(key);
    this.expires.delete(key);
    return true;
  }

  setExpire(key: string, at: number): void {
    this.expires.set(key, at);
  }

  /** Remaining TTL in ms, -1 without one; the key must exist. */
  ttl(key: string): number {
    const at = this.expires.get(key);
    return at === undefined ? -1 : Math.max(0, at - this.now());
  }

  clear(): void {
    this.data.clear();
    this.expires.clear();
    this.sweepCursor = undefined;
  }

  /** Deletes every expired key (before KEYS, SCAN, DBSIZE, so their answers are exact). */
  purge(): void {
    if (this.expires.size === 0) return;
    const now = this.now();
    for (const [key, at] of this.expires) {
      if (at <= now) {
        this.data.delete(key);
        this.expires.delete(key);
      }
    }
  }

  /** The periodic active expiry: looks at up to `budget` keys with a TTL, resuming where it left. */
  sweep(budget: number): void {
    if (this.expires.size === 0 || this.frozenNow !== undefined) return;
    const now = Date.now();
    this.sweepCursor ??= this.expires.entries();
    for (let i = 0; i < budget; i++) {
      const next = this.sweepCursor.next();
      if (next.done) {
        this.sweepCursor = undefined;
        return;
      }
      const [key, at] = next.value;
      if (at <= now) {
        this.data.delete(key);
        this.expires.delete(key);
      }
    }
  }

  // Typed access: undefined when missing, WRONGTYPE when the key holds something else.

  getString(key: string): StringEntry | undefined {
    const e = this.lookup(key);
    if (e === undefined) return undefined;
    return e.type === 'string' ? e : fail(E.wrongType);
  }

  getHash(key: string): HashEntry | undefined {
    const e = this.lookup(key);
    if (e === undefined) return undefined;
    return e.type === 'hash' ? e : fail(E.wrongType);
  }

  getList(key: string): ListEntry | undefined {
    const e = this.lookup(key);
    if (e === undefined) return undefined;
    return e.type === 'list' ? e : fail(E.wrongType);
  }

  getSet(key: string): SetEntry | undefined {
    const e = this.lookup(key);
    if (e === undefined) return undefined;
    return e.type === 'set' ? e : fail(E.wrongType);
  }

  getZSet(key: string): ZSetEntry | undefined {
    const e = this.lookup(key);
    if (e === undefined) return undefined;
    return e.type === 'zset' ? e : fail(E.wrongType);
  }

  hashFor(key: string): HashEntry {
    const e = this.getHash(key);
    if (e) return e;
    const created: HashEntry = { type: 'hash', value: new Map(), seq: this.nextSeq++ };
    this.data.set(key, created);
    return created;
  }

  listFor(key: string): ListEntry {
    const e = this.getList(key);
    if (e) return e;
    const created: ListEntry = { type: 'list', value: [], seq: this.nextSeq++ };
    this.data.set(key, created);
    return created;
  }

  setFor(key: string): SetEntry {
    const e = this.getSet(key);
    if (e) return e;
    const created: SetEntry = { type: 'set', value: new Set(), seq: this.nextSeq++ };
    this.data.set(key, created);
    return created;
  }

  zsetFor(key: string): ZSetEntry {
    const e = this.getZSet(key);
    if (e) return e;
    const created: ZSetEntry = { type: 'zset', value: new SortedSet(), seq: this.nextSeq++ };
    this.data.set(key, created);
    return created;
  }

  /** Redis never keeps an empty aggregate: drop the key once its collection is empty. */
  dropIfEmpty(key: string, entry: Entry): void {
    const size =
      entry.type === 'string' ? 1 : entry.type === 'list' ? entry.value.length : entry.value.size;
    if (size === 0) {
      this.data.delete(key);
      this.expires.delete(key);
    }
  }
}
