import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Snapshot } from './types.ts';

const FILE = 'qstash.json';

/**
 * Keeps the QStash state in `dataDir/qstash.json`. Every write goes to a temporary file that is
 * then renamed over the old one, so a crash mid-write leaves the previous state, never half a
 * file. Writes are coalesced: many changes in one tick cost one write.
 */
export class SnapshotStore {
  readonly #dir: string;
  readonly #take: () => Snapshot;
  #dirty = false;
  #chain: Promise<void> = Promise.resolve();
  #counter = 0;

  constructor(dir: string, take: () => Snapshot) {
    this.#dir = dir;
    this.#take = take;
  }

  async load(): Promise<Snapshot | undefined> {
    let text: string;
    try {
      text = await readFile(join(this.#dir, FILE), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    const parsed = JSON.parse(text) as Snapshot;
    if (parsed.version !== 1) throw new Error(`unsupported QStash state version in ${this.#dir}`);
    return parsed;
  }

  /** Notes that the state changed; it is written on the next turn of the event loop. */
  markDirty(): void {
    if (this.#dirty) return;
    this.#dirty = true;
    setImmediate(() => {
      this.#chain = this.#chain.then(() => this.#write());
    });
  }

  /** Writes any pending change now and waits for every write to land. */
  async flush(): Promise<void> {
    this.#chain = this.#chain.then(() => this.#write());
    await this.#chain;
  }

  async #write(): Promise<void> {
    if (!this.#dirty) return;
    this.#dirty = false;
    const target = join(this.#dir, FILE);
    const temp = `${target}.${process.pid}.${this.#counter++}.tmp`;
    try {
      await mkdir(this.#dir, { recursive: true });
      await writeFile(temp, JSON.stringify(this.#take()));
      await rename(temp, target);
    } catch (error) {
      // Keep running and retry shortly: crashing on a full disk would lose the in-memory state too.
      await rm(temp, { force: true }).catch(() => {});
      setTimeout(() => this.markDirty(), 1000).unref();
      console.error(`[local-cloud qstash] could not save state to ${target}:`, error);
    }
  }
}
