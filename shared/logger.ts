export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/**
 * The level a raw `LOG_LEVEL` setting names, or `info` when it names none. Entry points read it
 * before the env is validated, so that a misconfiguration is itself logged.
 */
export function logLevel(setting: unknown): LogLevel {
  return typeof setting === 'string' && Object.hasOwn(RANK, setting)
    ? (setting as LogLevel)
    : 'info';
}

export type Logger = {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger whose lines also carry `fields` (request id, org id, ...). */
  with(fields: LogFields): Logger;
};

/** Where lines go; tests pass their own to read what was logged. */
export type LogSink = (line: string) => void;

/**
 * One JSON object per line (`time`, `level`, `msg`, then the bound and given fields), which
 * Workers Logs and `wrangler tail` index as fields. Errors become `{name, message, stack}`;
 * callers never pass request bodies or secrets.
 */
export function createLogger(
  options: { level?: LogLevel; fields?: LogFields; sink?: LogSink } = {},
): Logger {
  const min = RANK[options.level ?? 'info'];
  const base = options.fields ?? {};
  const sink = options.sink ?? ((line: string) => console.log(line));
  const write = (level: LogLevel, msg: string, fields?: LogFields) => {
    if (RANK[level] < min) return;
    const entry: LogFields = { time: new Date().toISOString(), level, msg, ...base };
    for (const [key, value] of Object.entries(fields ?? {})) {
      entry[key] = value instanceof Error ? serializeError(value) : value;
    }
    sink(JSON.stringify(entry));
  };
  return {
    debug: (msg, fields) => write('debug', msg, fields),
    info: (msg, fields) => write('info', msg, fields),
    warn: (msg, fields) => write('warn', msg, fields),
    error: (msg, fields) => write('error', msg, fields),
    with: (fields) => createLogger({ ...options, fields: { ...base, ...fields } }),
  };
}

/**
 * Longest error message or stack logged. Some clients put the whole request in the message (the
 * Upstash SDK quotes every command of a failed pipeline): a bulk write's could be megabytes.
 */
export const MAX_ERROR_TEXT_CHARS = 2_000;

function clip(text: string | undefined): string | undefined {
  if (text === undefined || text.length <= MAX_ERROR_TEXT_CHARS) return text;
  return `${text.slice(0, MAX_ERROR_TEXT_CHARS)}… (${text.length - MAX_ERROR_TEXT_CHARS} more characters)`;
}

function serializeError(error: Error): LogFields {
  return {
    name: error.name,
    message: clip(error.message),
    stack: clip(error.stack),
    ...(error.cause instanceof Error ? { cause: serializeError(error.cause) } : {}),
  };
}
