import type { ContentfulStatusCode } from 'hono/utils/http-status';

/**
 * An expected failure of an API call: the status and the `{"error": ...}` text QStash answers
 * with. Request parsing throws it; the app's error handler turns it into the response.
 */
export class ApiError extends Error {
  readonly status: ContentfulStatusCode;

  constructor(status: ContentfulStatusCode, message: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
  }
}

export const badRequest = (message: string) => new ApiError(400, message);
export const notFound = (message: string) => new ApiError(404, message);

/** The result of parsing untrusted input: a value, or the error text to report. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

export const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
export const fail = <T = never>(error: string): Parsed<T> => ({ ok: false, error });

/** Go's `strconv.Quote` for the ASCII texts QStash echoes back in its errors. */
export const goQuote = (text: string) => JSON.stringify(text);

/** The message of Go's `strconv.Atoi` / `ParseInt` failures, which QStash passes through. */
export function parseGoInt(text: string, fn = 'strconv.Atoi'): Parsed<number> {
  if (!/^[+-]?\d+$/.test(text)) return fail(`${fn}: parsing ${goQuote(text)}: invalid syntax`);
  const value = Number(text);
  if (!Number.isSafeInteger(value))
    return fail(`${fn}: parsing ${goQuote(text)}: value out of range`);
  return ok(value);
}
