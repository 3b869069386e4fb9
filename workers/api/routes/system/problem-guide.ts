import type { ErrorCode } from '../../../../shared/errors.ts';

/** What a problem type means, what typically causes it, and how to fix it. */
export type ProblemGuide = {
  description: string;
  causes: string[];
  fix: string[];
};

/**
 * The page behind each problem `type` (`GET /problems/{code}`): a new code does not compile until
 * it is explained here.
 */
export const PROBLEM_GUIDE = {
  BAD_REQUEST: {
    description:
      'The request could not be read: the API did not get as far as checking its fields.',
    causes: [
      'A body that is not valid JSON (a trailing comma, single quotes, a truncated document).',
      'A header in a form the API cannot parse.',
    ],
    fix: [
      'Check that the body parses as JSON (for example with `jq . < body.json`) and is sent whole.',
      '`detail` says what could not be read.',
    ],
  },
  VALIDATION_FAILED: {
    description:
      'The request was read but breaks a rule. `errors[]` lists every broken field: its `path` ' +
      'says where (`body.title.en`, `query.limit`, `path.id`, `header.if-match`) and its ' +
      '`message` which rule (`must be at most 300 characters`, `must be one of: asc, desc`).',
    causes: [
      'A required field missing, or a value of the wrong type, too long, too short, out of range ' +
        'or not one of the allowed values.',
      'An unknown body field or query parameter, often a typo: the message suggests the name ' +
        'that was probably meant (`query.next_cursor: unknown parameter (did you mean cursor?)`). ' +
        'No route ignores a parameter it does not know.',
      'A query parameter given twice where the route takes one value.',
      'An id in the wrong form for its kind (`path.id: must be a content id: "cnt_" and 26 ' +
        'characters…`). A well-formed id that names nothing is a 404 instead.',
      'A URL whose percent-encoding is not UTF-8 (`%ZZ`, a cut sequence such as `%E0%A4%A`).',
      'A search query with no word in it (only punctuation, spaces or invisible characters).',
    ],
    fix: [
      'Correct each field that `errors[]` names, as its message says.',
      'The OpenAPI document (`/openapi.json`, rendered at `/docs`) lists every field and ' +
        'parameter of every route with its limits.',
      'Percent-encode query values as UTF-8 (`encodeURIComponent`, `curl --data-urlencode`).',
    ],
  },
  UNAUTHORIZED: {
    description: 'The request carries no valid credentials.',
    causes: [
      'No `Authorization` header, or not of the form `Bearer <token>`.',
      'An access token that has expired (they last 15 minutes), whose session was signed out, ' +
        'or that another deployment signed.',
      'An API key that was revoked, expired, or rolled and past its grace period.',
    ],
    fix: [
      'Send `Authorization: Bearer <token>` with an access token from `POST /v1/auth/login` or ' +
        'an API key (`sk_live_…`).',
      'When an access token expires, trade the refresh token for a new one at ' +
        '`POST /v1/auth/refresh`.',
    ],
  },
  FORBIDDEN: {
    description:
      'The credentials are valid, but they do not allow this request. `detail` names the ' +
      'permission the route needs.',
    causes: [
      "The user's role in the organisation lacks the permission (a viewer cannot write content).",
      "The API key's scopes do not include it.",
      'The IP address or API key is on the platform deny list.',
      'A browser request from an origin the deployment does not allow (CORS).',
    ],
    fix: [
      '`GET /v1/whoami` shows the role and permissions the credentials carry.',
      'Ask an owner or admin for a role, or a key with the scope, that has the permission.',
    ],
  },
  NOT_FOUND: {
    description:
      'There is nothing at this path that the caller can see. Resources of other organisations ' +
      'are answered with 404 too, so that their ids reveal nothing.',
    causes: [
      'An id that names nothing in the organisation the credentials are for, or something ' +
        'deleted since.',
      'Credentials for another organisation than the resource belongs to.',
      'A mistyped path.',
    ],
    fix: [
      "Find the id with the resource's list route; `GET /v1/whoami` shows the organisation.",
      'Compare the path with the API reference at `/docs`.',
    ],
  },
  METHOD_NOT_ALLOWED: {
    description:
      'The path exists but does not take this method. The `Allow` header and the `allowed` ' +
      'member list the methods it takes.',
    causes: ['A method meant for another route: `PATCH` on a list, `POST` on a single item.'],
    fix: ['Use one of the methods in `Allow`.'],
  },
  CONFLICT: {
    description: "The request cannot be applied to the resource's current state.",
    causes: [
      'A workflow action that is not possible from the current status (`allowed` lists those ' +
        'that are).',
      'A name or slug that is already taken.',
      'Work of the same kind already running (a re-index names its operation).',
      'A request with the same `Idempotency-Key` still being processed (`Retry-After` says when ' +
        'to try again).',
      'Removing or demoting the last owner of an organisation.',
    ],
    fix: [
      'Read the resource again and send what its current state allows.',
      'For an idempotent request in progress, retry the same request after `Retry-After`.',
    ],
  },
  PRECONDITION_FAILED: {
    description:
      'The `If-Match` header names a version the resource is no longer at: someone changed it ' +
      'since it was read. Nothing was written.',
    causes: ['A concurrent write by another client, or a stale copy kept by this one.'],
    fix: [
      'Read the resource again (its `ETag`, or `current_version` / `current_etag` in the ' +
        'problem), reapply the change to it and send it with the new `If-Match`.',
    ],
  },
  PAYLOAD_TOO_LARGE: {
    description:
      'The request body is larger than the deployment accepts (`MAX_BODY_BYTES`, 1 MiB by ' +
      'default; `MAX_BULK_BODY_BYTES`, 16 MiB, for bulk content writes). `detail` says the limit.',
    causes: ['A very long text field, large metadata, or too many items in one bulk request.'],
    fix: ['Send less in one request: split a bulk write into several.'],
  },
  UNSUPPORTED_MEDIA_TYPE: {
    description:
      'The body is not in a media type this route accepts. `detail` and the `accept` member ' +
      'name the ones it does; a `POST` answer carries them in `Accept-Post`, a `PATCH` answer ' +
      'in `Accept-Patch`.',
    causes: [
      'No `Content-Type` header with a body (`curl -d` without `-H`, which sends ' +
        '`application/x-www-form-urlencoded`).',
      'Another type, such as `text/plain` or `multipart/form-data`.',
    ],
    fix: [
      'Send the body as JSON with `Content-Type: application/json` (or ' +
        '`application/merge-patch+json` for a merge patch).',
    ],
  },
  UNPROCESSABLE: {
    description:
      'The request is well-formed but cannot be applied: it refers to something that does not ' +
      'exist, or the result would be invalid. `errors[]` names the fields where it can.',
    causes: [
      'A reference to something missing from the organisation (a `category_id`, an API key id).',
      'A merge patch whose result breaks a rule the patch alone does not show.',
      'An `Idempotency-Key` reused with another body, or by another caller.',
      'A bulk request none of whose items was accepted (each result says why).',
    ],
    fix: [
      'Correct what `detail` and `errors[]` name; for idempotency, use a new key for a new ' +
        'request.',
    ],
  },
  RATE_LIMITED: {
    description:
      'Too many requests from this caller (API key, user or IP) for this class of route. ' +
      '`Retry-After` says when to try again; `RateLimit` and `RateLimit-Policy` show the quota.',
    causes: [
      'A burst of requests, a tight polling loop, or retries without back-off.',
      'Repeated failed logins (throttled per account and per IP).',
    ],
    fix: [
      'Wait `Retry-After` seconds, then retry with exponential back-off.',
      'Spread requests out; an API key can carry its own higher limit.',
    ],
  },
  INTERNAL: {
    description:
      'Something failed inside Sift. The answer says nothing about the cause; the logs hold ' +
      'it under the request id.',
    causes: ['A bug or an unforeseen condition on the server.'],
    fix: [
      'Retry later (writes with an `Idempotency-Key` are safe to retry).',
      'If it persists, report the `request_id` to the operators.',
    ],
  },
  MISCONFIGURED: {
    description:
      'The deployment is missing a setting or has an invalid one, so it cannot serve requests. ' +
      '`detail` names the settings, never their values.',
    causes: ['A secret or variable not set, or set to a value of the wrong form, at deployment.'],
    fix: [
      'Operators: set what `detail` names (see the Configuration section of the README) and ' +
        'deploy again. Clients cannot fix this; report the `request_id`.',
    ],
  },
  SERVICE_UNAVAILABLE: {
    description:
      'A service Sift depends on (`dependency` names it: postgres, redis, vector, queue, ai, ' +
      'kv) is down or recently failing, and this request cannot be answered without it. ' +
      '`Retry-After` says when to try again.',
    causes: ['An outage or overload of the dependency; its circuit breaker is open meanwhile.'],
    fix: [
      'Retry after `Retry-After` seconds. Writes with an `Idempotency-Key` are safe to retry; ' +
        'a content write answered with 503 was not accepted: nothing was written.',
    ],
  },
} as const satisfies Record<ErrorCode, ProblemGuide>;
