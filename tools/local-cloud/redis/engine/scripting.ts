import { ErrorReply, OK, type Reply } from '../reply.ts';
import { type CommandSpec, type CommandTable, is, NOSCRIPT, READONLY, WRITE } from './command.ts';
import { E, fail } from './errors.ts';
import type { Engine } from './index.ts';
import { sha1hex } from './lua.ts';
import { parseInteger } from './numbers.ts';

/**
 * Shebang flags Redis 7.0 knows, plus Upstash's `allow-key-locking` (which @upstash/ratelimit puts
 * on its scripts; Upstash uses it to lock only the script's KEYS, which changes nothing for a
 * single-threaded engine).
 */
const SHEBANG_FLAGS = new Set([
  'no-writes',
  'allow-oom',
  'allow-stale',
  'no-cluster',
  'allow-cross-slot-keys',
  'allow-key-locking',
]);

export type ScriptInfo = {
  /** Body handed to Lua: the shebang line blanked, its newline kept so line numbers match. */
  body: string;
  /** A `#!lua` script (not the legacy mode): writes need the absence of `no-writes`. */
  shebang: boolean;
  noWrites: boolean;
};

/** `evalExtractShebangFlags`. Returns the script info or an error text. */
export function parseShebang(
  source: string,
  allowed: ReadonlySet<string> = SHEBANG_FLAGS,
): ScriptInfo | string {
  if (!source.startsWith('#!')) return { body: source, shebang: false, noWrites: false };
  const end = source.indexOf('\n');
  if (end < 0) return 'ERR Invalid script shebang';
  const parts = source
    .slice(0, end)
    .split(/[ \t\r\v\f]+/)
    .filter((p) => p !== '');
  if (parts.length === 0) return 'ERR Invalid engine in script shebang';
  if (parts[0] !== '#!lua') return `ERR Unexpected engine in script shebang: ${parts[0]}`;
  let noWrites = false;
  for (const part of parts.slice(1)) {
    if (!part.startsWith('flags=')) return `ERR Unknown lua shebang option: ${part}`;
    const flags = part.slice(6);
    if (flags === '') continue;
    for (const flag of flags.split(',')) {
      if (!allowed.has(flag)) return `ERR Unexpected flag in script shebang: ${flag}`;
      if (flag === 'no-writes') noWrites = true;
    }
  }
  return { body: source.slice(end), shebang: true, noWrites };
}

/** Compiles and caches a script; returns its sha or throws the compile error. */
function load(engine: Engine, source: string): string {
  const sha = sha1hex(source);
  if (engine.scripts.has(sha)) return sha;
  const info = parseShebang(source);
  if (typeof info === 'string') fail(info);
  const error = engine.lua.compile(sha, (info as ScriptInfo).body);
  if (error !== undefined) fail(error);
  engine.scripts.set(sha, info as ScriptInfo);
  return sha;
}

/** `evalGenericCommand` for EVAL, EVALSHA and their _RO variants. */
function evalGeneric(engine: Engine, argv: string[], bySha: boolean, ro: boolean): Reply {
  if (bySha && (argv[1] as string).length !== 40) return new ErrorReply(E.noScript);
  const numkeys = parseInteger(argv[2] as string) ?? fail(E.notInteger);
  if (numkeys > argv.length - 3) fail("ERR Number of keys can't be greater than number of args");
  if (numkeys < 0) fail("ERR Number of keys can't be negative");
  const sha = bySha ? (argv[1] as string).toLowerCase() : load(engine, argv[1] as string);
  const info = engine.scripts.get(sha);
  if (info === undefined) return new ErrorReply(E.noScript);
  if (ro && info.shebang && !info.noWrites) {
    fail('ERR Can not execute a script with write flag using *_ro command.');
  }
  const keys = argv.slice(3, 3 + numkeys);
  const args = argv.slice(3 + numkeys);
  return engine.runScript(sha, keys, args, ro || info.noWrites);
}

const scriptSubcommands: Record<string, CommandSpec> = {
  load: {
    arity: 3,
    flags: NOSCRIPT | WRITE,
    run: (engine, argv) => load(engine, argv[2] as string),
  },
  exists: {
    arity: -3,
    flags: NOSCRIPT | READONLY,
    run: (engine, argv) =>
      argv.slice(2).map((sha) => (engine.scripts.has(sha.toLowerCase()) ? 1 : 0)),
  },
  flush: {
    arity: -2,
    flags: NOSCRIPT | WRITE,
    run: (engine, argv) => {
      if (argv.length > 3 || (argv.length === 3 && !is(argv[2], 'sync') && !is(argv[2], 'async'))) {
        fail('ERR SCRIPT FLUSH only support SYNC|ASYNC option');
      }
      engine.scripts.clear();
      engine.lua.flush();
      return OK;
    },
  },
  kill: {
    arity: 2,
    flags: NOSCRIPT,
    run: () => fail('NOTBUSY No scripts in execution right now.'),
  },
};

export const scriptingCommands: CommandTable = {
  eval: {
    arity: -3,
    flags: NOSCRIPT,
    run: (engine, argv) => evalGeneric(engine, argv, false, false),
  },
  evalsha: {
    arity: -3,
    flags: NOSCRIPT,
    run: (engine, argv) => evalGeneric(engine, argv, true, false),
  },
  eval_ro: {
    arity: -3,
    flags: NOSCRIPT | READONLY,
    run: (engine, argv) => evalGeneric(engine, argv, false, true),
  },
  evalsha_ro: {
    arity: -3,
    flags: NOSCRIPT | READONLY,
    run: (engine, argv) => evalGeneric(engine, argv, true, true),
  },
  script: { arity: -2, flags: NOSCRIPT, run: () => null, subcommands: scriptSubcommands },
};
