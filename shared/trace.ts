/**
 * W3C Trace Context (`traceparent`, version 00): `00-<32 hex trace id>-<16 hex parent id>-<2 hex
 * flags>`. Each request is a span of its own: it keeps an incoming trace id, records the caller's
 * span as its parent, and gets a fresh span id. A malformed header is not trusted (the spec says
 * to restart the trace): the request starts a new trace and says so in its log line.
 */
export type TraceContext = {
  traceId: string;
  spanId: string;
  /** The caller's span id, when a valid `traceparent` came in. */
  parentId: string | undefined;
  /** Trace flags (bit 0: sampled). */
  flags: string;
  /** Why an incoming header was not used, when one was sent and rejected. */
  rejected: string | undefined;
};

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/** Parses an incoming `traceparent` and starts this request's span. */
export function startSpan(header: string | null | undefined): TraceContext {
  const fresh = (rejected?: string): TraceContext => ({
    traceId: randomHex(16),
    spanId: randomHex(8),
    parentId: undefined,
    flags: '01',
    rejected,
  });
  if (header === null || header === undefined || header === '') return fresh();
  const match = TRACEPARENT.exec(header.trim());
  if (!match) return fresh('malformed traceparent');
  const [, version, traceId, parentId, flags, rest] = match as unknown as [
    string,
    string,
    string,
    string,
    string,
    string?,
  ];
  if (version === 'ff') return fresh('invalid traceparent version ff');
  // Version 00 has exactly four fields; a later version may add more, which we ignore.
  if (version === '00' && rest !== undefined) return fresh('malformed traceparent');
  if (/^0+$/.test(traceId) || /^0+$/.test(parentId)) return fresh('all-zero trace or parent id');
  return { traceId, spanId: randomHex(8), parentId, flags, rejected: undefined };
}

/** The `traceparent` that names this request's span (for responses and outgoing messages). */
export function formatTraceparent(
  trace: Pick<TraceContext, 'traceId' | 'spanId' | 'flags'>,
): string {
  return `00-${trace.traceId}-${trace.spanId}-${trace.flags}`;
}

function randomHex(bytes: number): string {
  const buffer = new Uint8Array(bytes);
  // An all-zero id is invalid; with 64+ random bits this loop essentially never repeats.
  do crypto.getRandomValues(buffer);
  while (buffer.every((b) => b === 0));
  return Array.from(buffer, (b) => b.toString(16).padStart(2, '0')).join('');
}
