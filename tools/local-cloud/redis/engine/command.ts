import type { Reply } from '../reply.ts';
import type { Engine } from './index.ts';

/** The command changes data (refused by read-only scripts, bumps the sync token). */
export const WRITE = 1;
/** The command only reads (allowed with the read-only token and in read-only scripts). */
export const READONLY = 2;
/** The command may not be called from a Lua script. */
export const NOSCRIPT = 4;

export type Handler = (engine: Engine, argv: string[]) => Reply;

export type CommandSpec = {
  /** Redis' arity: exact argument count including the name, or `-n` for "at least n". */
  arity: number;
  flags: number;
  run: Handler;
  /** Containers (SCRIPT): subcommands by lower-case name, each with its own arity. */
  subcommands?: Record<string, CommandSpec>;
};

export type CommandTable = Record<string, CommandSpec>;

export const arityOk = (arity: number, argc: number) =>
  arity >= 0 ? argc === arity : argc >= -arity;

/** Case-insensitive option match, as Redis' `strcasecmp` on ASCII. */
export const is = (arg: string | undefined, option: string) =>
  arg !== undefined && arg.length === option.length && arg.toLowerCase() === option;
