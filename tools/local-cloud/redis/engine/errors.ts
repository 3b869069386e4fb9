import { ErrorReply } from '../reply.ts';

/**
 * Redis 7.0's error texts, byte for byte (checked against a 7.0.15 server by the conformance
 * suite). Thrown as `CommandError` inside command code and turned into an `ErrorReply` by the
 * dispatcher, so deep helpers can fail without threading results back up.
 */
export class CommandError extends Error {
  readonly reply: ErrorReply;
  constructor(message: string) {
    super(message);
    this.reply = new ErrorReply(message);
  }
}

export const fail = (message: string): never => {
  throw new CommandError(message);
};

export const E = {
  wrongType: 'WRONGTYPE Operation against a key holding the wrong kind of value',
  syntax: 'ERR syntax error',
  notInteger: 'ERR value is not an integer or out of range',
  notFloat: 'ERR value is not a valid float',
  outOfRangePositive: 'ERR value is out of range, must be positive',
  overflow: 'ERR increment or decrement would overflow',
  nanOrInfinity: 'ERR increment would produce NaN or Infinity',
  noSuchKey: 'ERR no such key',
  indexOutOfRange: 'ERR index out of range',
  offsetOutOfRange: 'ERR offset is out of range',
  invalidCursor: 'ERR invalid cursor',
  minMaxNotFloat: 'ERR min or max is not a float',
  minMaxNotValidString: 'ERR min or max not valid string range item',
  hashNotInteger: 'ERR hash value is not an integer',
  hashNotFloat: 'ERR hash value is not a float',
  noScript: 'NOSCRIPT No matching script. Please use EVAL.',
  stringTooLong: 'ERR string exceeds maximum allowed size (proto-max-bulk-len)',
} as const;

export const wrongArity = (name: string) => `ERR wrong number of arguments for '${name}' command`;

export const invalidExpire = (name: string) => `ERR invalid expire time in '${name}' command`;

/** Redis replaces CR and LF in error replies with spaces so the protocol stays intact. */
export const sanitize = (message: string) => message.replace(/[\r\n]/g, ' ');

/** Redis 7's reply to a command it does not know. */
export function unknownCommand(argv: readonly string[]): string {
  let args = '';
  for (let i = 1; i < argv.length && args.length < 128; i++) {
    args += `'${(argv[i] as string).slice(0, 128 - args.length)}' `;
  }
  return sanitize(
    `ERR unknown command '${(argv[0] as string).slice(0, 128)}', with args beginning with: ${args}`,
  );
}

export const unknownSubcommand = (sub: string, container: string) =>
  sanitize(`ERR unknown subcommand '${sub.slice(0, 128)}'. Try ${container} HELP.`);
