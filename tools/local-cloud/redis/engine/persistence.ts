import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Engine } from './index.ts';
import type { Entry } from './keyspace.ts';
import { formatG17, parseFloatStrict } from './numbers.ts';
import { SortedSet } from './sorted-set.ts';

/*
 * The embedded engine's optional snapshot: JSON, byte strings as base64, expiry as absolute
 * Unix-ms times so a TTL keeps running while the process is down (a key that expired meanwhile
 * is not loaded).
 */

type Snapshot = {
  version: 1;
  keys: SnapshotKey[];
};

type SnapshotKey =
  | { k: string; x?: number; t: 'string'; v: string }
  | { k: string; x?: number; t: 'hash'; v: [string, string][] }
  | { k: string; x?: number; t: 'list' | 'set'; v: string[] }
  | { k: string; x?: number; t: 'zset'; v: [string, string][] };

const b64 = (bytes: string) => Buffer.from(bytes, 'latin1').toString('base64');
const unb64 = (text: string) => Buffer.from(text, 'base64').toString('latin1');

function dumpEntry(key: string, entry: Entry, at: number | undefined): SnapshotKey {
  const base = { k: b64(key), ...(at === undefined ? {} : { x: at }) };
  switch (entry.type) {
    case 'string':
      return { ...base, t: 'string', v: b64(entry.value) };
    case 'hash':
      return { ...base, t: 'hash', v: [...entry.value].map(([f, v]) => [b64(f), b64(v)]) };
    case 'list':
      return { ...base, t: 'list', v: entry.value.map(b64) };
    case 'set':
      return { ...base, t: 'set', v: [...entry.value].map(b64) };
    case 'zset':
      return {
        ...base,
        t: 'zset',
        v: entry.value.items.map((i) => [b64(i.member), formatG17(i.score)]),
      };
  }
}

function loadEntry(engine: Engine, item: SnapshotKey): Entry {
  const seq = engine.db.seq();
  switch (item.t) {
    case 'string':
      return { type: 'string', value: unb64(item.v), seq };
    case 'hash':
      return { type: 'hash', value: new Map(item.v.map(([f, v]) => [unb64(f), unb64(v)])), seq };
    case 'list':
      return { type: 'list', value: item.v.map(unb64), seq };
    case 'set':
      return { type: 'set', value: new Set(item.v.map(unb64)), seq };
    case 'zset': {
      const z = new SortedSet();
      for (const [m, s] of item.v) z.set(unb64(m), parseFloatStrict(s) ?? 0);
      return { type: 'zset', value: z, seq };
    }
  }
}

/** Writes the snapshot atomically (temporary file, then rename). */
export function saveSnapshot(engine: Engine, file: string): void {
  engine.db.purge();
  const keys: SnapshotKey[] = [];
  for (const [key, entry] of engine.db.data)
    keys.push(dumpEntry(key, entry, engine.db.expires.get(key)));
  const snapshot: Snapshot = { version: 1, keys };
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(snapshot));
  renameSync(tmp, file);
}

/** Loads a snapshot if the file exists; a missing file is an empty database. */
export function loadSnapshot(engine: Engine, file: string): void {
  if (!existsSync(file)) return;
  const snapshot = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  if (snapshot.version !== 1) throw new Error(`${file}: unsupported snapshot version`);
  const now = Date.now();
  for (const item of snapshot.keys) {
    if (item.x !== undefined && item.x <= now) continue;
    const key = unb64(item.k);
    engine.db.data.set(key, loadEntry(engine, item));
    if (item.x !== undefined) engine.db.setExpire(key, item.x);
  }
}
