import { type Argv, ErrorReply, type Reply } from '../reply.ts';
import { arityOk, type CommandSpec, type CommandTable, NOSCRIPT, WRITE } from './command.ts';
import { CommandError, sanitize, unknownCommand, unknownSubcommand, wrongArity } from './errors.ts';
import { hashCommands } from './hashes.ts';
import { keyCommands } from './keys.ts';
import { Keyspace } from './keyspace.ts';
import { listCommands } from './lists.ts';
import { LuaRuntime } from './lua.ts';
import { type ScriptInfo, scriptingCommands } from './scripting.ts';
import { setCommands } from './sets.ts';
import { stringCommands } from './strings.ts';
import { zsetCommands } from './zsets.ts';

export const COMMANDS: CommandTable = {
  ...stringCommands,
  ...keyCommands,
  ...hashCommands,
  ...listCommands,
  ...setCommands,
  ...zsetCommands,
  ...scriptingCommands,
};

const table = new Map<string, CommandSpec>(Object.entries(COMMANDS));

/** What a command needs to be checked before it runs: the spec, or the error Redis gives. */
export function resolveCommand(argv: Argv): CommandSpec | ErrorReply {
  const name = argv[0] as string;
  const spec = table.get(name) ?? table.get(name.toLowerCase());
  if (spec === undefined) return new ErrorReply(unknownCommand(argv));
  if (spec.subcommands) {
    if (argv.length < 2) return new ErrorReply(wrongArity(name.toLowerCase()));
    const subName = (argv[1] as string).toLowerCase();
    const sub = spec.subcommands[subName];
    if (sub === undefined) {
      return new ErrorReply(unknownSubcommand(argv[1] as string, name.toUpperCase()));
    }
    if (!arityOk(sub.arity, argv.length)) {
      return new ErrorReply(wrongArity(`${name.toLowerCase()}|${subName}`));
    }
    return sub;
  }
  if (!arityOk(spec.arity, argv.length)) return new ErrorReply(wrongArity(name.toLowerCase()));
  return spec;
}

/**
 * The embedded Redis: a keyspace, the command table and a Lua VM. Everything runs synchronously,
 * so a command, a transaction or a script is atomic by construction.
 */
export type EngineOptions = {
  /** How long a Lua script may run before it is stopped with an error. Default 5 s. */
  scriptTimeLimitMs?: number;
};

export class Engine {
  readonly db = new Keyspace();
  readonly scripts = new Map<string, ScriptInfo>();
  private luaRuntime: LuaRuntime | undefined;
  private sweeper: NodeJS.Timeout | undefined;
  private readonly options: EngineOptions;

  constructor(options: EngineOptions = {}) {
    this.options = options;
  }

  /** The Lua VM, created on first use: most processes never run a script. */
  get lua(): LuaRuntime {
    this.luaRuntime ??= new LuaRuntime(
      { callFromScript: (argv, readOnly) => this.callFromScript(argv, readOnly) },
      this.options.scriptTimeLimitMs,
    );
    return this.luaRuntime;
  }

  /** Starts the active expiry (a few hundred keys every 100 ms, like Redis' cron). */
  startSweeper(): void {
    this.sweeper ??= setInterval(() => this.db.sweep(500), 100);
    this.sweeper.unref();
  }

  stop(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = undefined;
  }

  /** The REST layer's view of a command: undefined when it is unknown (or malformed). */
  describe(argv: Argv): { write: boolean } | undefined {
    const spec = resolveCommand(argv);
    if (spec instanceof ErrorReply) return undefined;
    const name = (argv[0] as string).toLowerCase();
    // EVAL and EVALSHA carry no write flag (Redis decides per script) but may write.
    return { write: (spec.flags & WRITE) !== 0 || name === 'eval' || name === 'evalsha' };
  }

  /** Runs one command. Never throws for a command-level problem: those are error replies. */
  execute(argv: Argv): Reply {
    const spec = resolveCommand(argv);
    if (spec instanceof ErrorReply) return spec;
    return this.run(spec, argv);
  }

  private run(spec: CommandSpec, argv: Argv): Reply {
    try {
      return spec.run(this, argv);
    } catch (error) {
      if (error instanceof CommandError) return error.reply;
      return new ErrorReply(sanitize(`ERR internal error: ${(error as Error).message}`));
    }
  }

  /**
   * MULTI ... EXEC: queue-time checks first (unknown command, arity), which discard the whole
   * transaction as Redis' EXECABORT does; then every command runs, errors included in place.
   * Expiry is judged against one clock reading for the whole transaction.
   */
  transaction(commands: Argv[]): Reply[] | ErrorReply {
    const specs: CommandSpec[] = [];
    for (const argv of commands) {
      const spec = resolveCommand(argv);
      if (spec instanceof ErrorReply) {
        return new ErrorReply('EXECABORT Transaction discarded because of previous errors.');
      }
      specs.push(spec);
    }
    this.db.frozenNow = Date.now();
    try {
      return commands.map((argv, i) => this.run(specs[i] as CommandSpec, argv));
    } finally {
      this.db.frozenNow = undefined;
    }
  }

  runScript(sha: string, keys: string[], args: string[], readOnly: boolean): Reply {
    const outer = this.db.frozenNow;
    this.db.frozenNow ??= Date.now();
    try {
      return this.lua.run(sha, keys, args, readOnly);
    } finally {
      this.db.frozenNow = outer;
    }
  }

  /** `scriptCall`'s checks, then the command. */
  private callFromScript(argv: Argv, readOnly: boolean): Reply {
    const spec = resolveCommand(argv);
    if (spec instanceof ErrorReply) {
      return new ErrorReply(
        spec.message.startsWith('ERR unknown command')
          ? 'ERR Unknown Redis command called from script'
          : 'ERR Wrong number of args calling Redis command from script',
      );
    }
    if (spec.flags & NOSCRIPT)
      return new ErrorReply('ERR This Redis command is not allowed from script');
    if (readOnly && spec.flags & WRITE) {
      return new ErrorReply('ERR Write commands are not allowed from read-only scripts.');
    }
    return this.run(spec, argv);
  }
}
