import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { z } from 'zod';
import { useHumanErrorMessages } from './validation.ts';

// Every zod failure that reaches a client goes through `fieldErrors` below: word its rules here,
// once, before any schema parses.
useHumanErrorMessages();

/** Stable machine-readable error codes. Clients switch on these, never on `title` or `detail`. */
export const ErrorCode = z.enum([
  'BAD_REQUEST',
  'VALIDATION_FAILED',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'NOT_FOUND',
  'METHOD_NOT_ALLOWED',
  'CONFLICT',
  'PRECONDITION_FAILED',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'UNPROCESSABLE',
  'RATE_LIMITED',
  'INTERNAL',
  'MISCONFIGURED',
  'SERVICE_UNAVAILABLE',
]);
export type ErrorCode = z.infer<typeof ErrorCode>;

/** Every code's HTTP status and title; a new code does not compile until it is listed here. */
export const ERRORS = {
  BAD_REQUEST: { status: 400, title: 'Bad request' },
  VALIDATION_FAILED: { status: 400, title: 'Validation failed' },
  UNAUTHORIZED: { status: 401, title: 'Unauthorized' },
  FORBIDDEN: { status: 403, title: 'Forbidden' },
  NOT_FOUND: { status: 404, title: 'Not found' },
  METHOD_NOT_ALLOWED: { status: 405, title: 'Method not allowed' },
  CONFLICT: { status: 409, title: 'Conflict' },
  PRECONDITION_FAILED: { status: 412, title: 'Precondition failed' },
  PAYLOAD_TOO_LARGE: { status: 413, title: 'Payload too large' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'Unsupported media type' },
  UNPROCESSABLE: { status: 422, title: 'Unprocessable content' },
  RATE_LIMITED: { status: 429, title: 'Too many requests' },
  INTERNAL: { status: 500, title: 'Internal server error' },
  MISCONFIGURED: { status: 500, title: 'Service misconfigured' },
  SERVICE_UNAVAILABLE: { status: 503, title: 'Service unavailable' },
} as const satisfies Record<ErrorCode, { status: ContentfulStatusCode; title: string }>;

export function codeToStatus(code: ErrorCode): ContentfulStatusCode {
  return ERRORS[code].status;
}

/** A problem's `type`: a URI (relative to the API) that `GET /problems/{code}` documents. */
export function problemType(code: ErrorCode): string {
  return `/problems/${code.toLowerCase().replaceAll('_', '-')}`;
}

/** One field-level failure: where (a JSON pointer-ish dotted path) and which rule it broke. */
export type FieldError = { path: string; message: string; code?: string };

export type AppErrorOptions = {
  code: ErrorCode;
  /** Human-readable explanation of this occurrence (`detail`). */
  message: string;
  errors?: FieldError[];
  /** Extra members of the problem document (RFC 9457 extensions), e.g. `checks` or `allowed`. */
  extensions?: Record<string, unknown>;
  headers?: Record<string, string>;
  cause?: unknown;
};

/**
 * The one error type handlers throw. `onError` renders it as RFC 9457 problem+json with the
 * request id; anything else thrown becomes a logged 500 whose body says nothing internal.
 */
export class AppError extends HTTPException {
  readonly code: ErrorCode;
  readonly errors: FieldError[] | undefined;
  readonly extensions: Record<string, unknown> | undefined;
  readonly headers: Record<string, string> | undefined;

  constructor({ code, message, errors, extensions, headers, cause }: AppErrorOptions) {
    super(codeToStatus(code), { message, cause });
    this.name = 'AppError';
    this.code = code;
    this.errors = errors;
    this.extensions = extensions;
    this.headers = headers;
  }
}

/** The problem document's schema, for OpenAPI and for parsing in tests. */
export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: ErrorCode,
    request_id: z.string(),
    instance: z.string().optional(),
    errors: z
      .array(z.object({ path: z.string(), message: z.string(), code: z.string().optional() }))
      .optional(),
  })
  .catchall(z.unknown());
export type Problem = z.infer<typeof ProblemSchema>;

/** Builds a problem document (the Response is made by the caller, which knows the headers). */
export function problem(
  code: ErrorCode,
  detail: string,
  context: {
    requestId: string;
    instance?: string;
    errors?: FieldError[];
    extensions?: Record<string, unknown>;
  },
): Problem {
  const { status, title } = ERRORS[code];
  return {
    ...context.extensions,
    type: problemType(code),
    title,
    status,
    detail,
    code,
    request_id: context.requestId,
    ...(context.instance ? { instance: context.instance } : {}),
    ...(context.errors?.length ? { errors: context.errors } : {}),
  };
}

/**
 * Field errors from a zod error, with dotted paths (`title.en`, `items.3.id`). An unknown key is
 * reported at its own path, one error per key (`body.colour: unknown field; accepted: …`); in
 * the query string or headers it is an `unknown parameter`.
 */
export function fieldErrors(error: z.ZodError, prefix?: string): FieldError[] {
  const at = (path: readonly PropertyKey[]) =>
    [prefix, ...path.map(String)].filter(Boolean).join('.') || '(root)';
  return error.issues.flatMap((issue): FieldError[] => {
    if (issue.code !== 'unrecognized_keys') {
      return [{ path: at(issue.path), message: issue.message, code: issue.code }];
    }
    const message =
      prefix === 'query' || prefix === 'header'
        ? issue.message.replace(/^unknown field/, 'unknown parameter')
        : issue.message;
    return issue.keys.map((key) => ({
      path: at([...issue.path, key]),
      message,
      code: issue.code,
    }));
  });
}
