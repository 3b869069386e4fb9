import type { Engine } from './engine/index.ts';
import type { Argv, ErrorReply, Reply } from './reply.ts';

/** How the REST layer sees a command before running it. */
export type CommandClass = {
  /** The backend knows the command (unknown ones go through and get Redis' error). */
  known: boolean;
  /** It may change data: refused with the read-only token, bumps the sync token. */
  write: boolean;
  /** Blocking: the server backend gives it a connection of its own. */
  blocking: boolean;
};

/**
 * A Redis behind the REST API. Both implementations return the same reply model, so the JSON and
 * base64 encoding is shared.
 */
export type Backend = {
  readonly kind: 'embedded' | 'server';
  /** Commands in order, not atomic (the `/pipeline` semantics). */
  pipeline(commands: Argv[]): Promise<Reply[]>;
  /** MULTI/EXEC: replies in order, or the error that discarded the whole transaction. */
  transaction(commands: Argv[]): Promise<Reply[] | ErrorReply>;
  classify(argv: Argv): CommandClass;
  close(): Promise<void>;
};

/** The in-process engine behind the `Backend` interface. */
export class EmbeddedBackend implements Backend {
  readonly kind = 'embedded';
  readonly engine: Engine;
  private readonly onClose: () => void;

  constructor(engine: Engine, onClose: () => void) {
    this.engine = engine;
    this.onClose = onClose;
  }

  async pipeline(commands: Argv[]): Promise<Reply[]> {
    const out: Reply[] = new Array(commands.length);
    for (let i = 0; i < commands.length; i++) out[i] = this.engine.execute(commands[i] as Argv);
    return out;
  }

  async transaction(commands: Argv[]): Promise<Reply[] | ErrorReply> {
    return this.engine.transaction(commands);
  }

  classify(argv: Argv): CommandClass {
    const spec = this.engine.describe(argv);
    if (spec === undefined) return { known: false, write: false, blocking: false };
    return { known: true, write: spec.write, blocking: false };
  }

  async close(): Promise<void> {
    this.onClose();
  }
}
