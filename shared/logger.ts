export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

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

function serializeError(error: Error): LogFields {
  return {
    name: error.name,
    message: error.message,
    stack: error.stack,
    ...(error.cause instanceof Error ? { cause: serializeError(error.cause) } : {}),
  };
}
