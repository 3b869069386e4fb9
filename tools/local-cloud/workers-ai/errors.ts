import type { ContentfulStatusCode } from 'hono/utils/http-status';

/**
 * A failure to report as Cloudflare's API does: HTTP `status` with the envelope
 * `{"result": null, "success": false, "errors": [{"code": code, "message": message}],
 * "messages": []}`. Request handling throws it; the app's error handler writes the envelope.
 */
export class WorkersAiApiError extends Error {
  readonly status: ContentfulStatusCode;
  /** Cloudflare's numeric error code (`errors[0].code`). */
  readonly code: number;

  constructor(status: ContentfulStatusCode, code: number, message: string) {
    super(message);
    this.name = 'WorkersAiApiError';
    this.status = status;
    this.code = code;
  }
}

/**
 * Cloudflare's error codes used here: the API gateway's (`10000` authentication, `7000` no
 * route, `10405` wrong method) and Workers AI's (`5006` input that fails the model's schema,
 * `5007` unknown model, `5021` input and `max_tokens` beyond the model's context window).
 */
export const ERROR_CODES = {
  authentication: 10_000,
  noRoute: 7000,
  methodNotAllowed: 10_405,
  invalidInput: 5006,
  noSuchModel: 5007,
  contextWindow: 5021,
  internal: 10_001,
} as const;

export const authenticationError = (detail?: string) =>
  new WorkersAiApiError(
    401,
    ERROR_CODES.authentication,
    detail ? `Authentication error: ${detail}` : 'Authentication error',
  );

/** A request body that does not match the model's input schema. */
export const invalidInput = (message: string) =>
  new WorkersAiApiError(400, ERROR_CODES.invalidInput, message);
