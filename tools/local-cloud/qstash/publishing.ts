import { createHash } from 'node:crypto';
import { GROUP_NAME, type QStashContext } from './context.ts';
import { parseTargetUrl } from './destinations.ts';
import { ApiError, badRequest, notFound } from './errors.ts';
import { type PublishOptions, parsePublishOptions } from './publish-options.ts';

export type PublishRequest = {
  destination: string;
  headers: Headers;
  body: Buffer;
  callerIP: string;
  queueName?: string;
};

/** A validated publish, ready to commit; batches validate every entry before committing any. */
export type PreparedPublish = {
  request: PublishRequest;
  options: PublishOptions;
  isGroup: boolean;
  dedupKey?: string;
};

/**
 * Validates a publish: the destination (a loopback URL or an existing URL group), the size and
 * the `Upstash-*` headers. Throws `ApiError` with QStash's status and text.
 */
export function preparePublish(ctx: QStashContext, request: PublishRequest): PreparedPublish {
  if (request.body.length > ctx.maxMessageSize) {
    throw new ApiError(
      413,
      `message size exceeds the max message size of ${ctx.maxMessageSize} bytes`,
    );
  }
  if (request.queueName !== undefined && !GROUP_NAME.test(request.queueName)) {
    throw badRequest(
      'Queue name is invalid. Queue names can only contain alphanumeric characters, hyphens, periods, and underscores.',
    );
  }
  const destination = request.destination;
  let isGroup = false;
  if (/^https?:\/\//i.test(destination) || !GROUP_NAME.test(destination)) {
    const parsed = parseTargetUrl(destination, 'destination', ctx.allowDestination);
    if (!parsed.ok) throw badRequest(parsed.error);
  } else {
    if (!ctx.engine.topics.has(destination)) throw notFound(`url group ${destination} not found`);
    isGroup = true;
  }
  const options = parsePublishOptions(request.headers, ctx.allowDestination);
  let dedupKey: string | undefined;
  if (options.deduplicationId !== undefined) dedupKey = `id:${options.deduplicationId}`;
  else if (options.contentBasedDeduplication) {
    // "Destination, body and headers" (deduplication docs).
    const hash = createHash('sha256')
      .update(destination)
      .update('\0')
      .update(options.method)
      .update('\0')
      .update(JSON.stringify(Object.entries(options.header).sort(([a], [b]) => a.localeCompare(b))))
      .update('\0')
      .update(request.body)
      .digest('hex');
    dedupKey = `content:${hash}`;
  }
  return { request, options, isGroup, dedupKey };
}

/**
 * Commits a prepared publish. Answers `{messageId}` for a URL and `[{messageId, url}]` for a URL
 * group; a duplicate gets the first publish's answer with `deduplicated: true` and status 202
 * (deduplication docs: "We'll send HTTP 202 Accepted code in case of a duplicate message").
 */
export function commitPublish(
  ctx: QStashContext,
  prepared: PreparedPublish,
): { status: 200 | 202; body: unknown } {
  const { request, options, dedupKey } = prepared;
  if (dedupKey !== undefined) {
    const previous = ctx.engine.deduplicated(dedupKey);
    if (previous !== undefined) return { status: 202, body: markDeduplicated(previous) };
  }
  const now = Date.now();
  const messages = ctx.engine.publish({
    destination: request.destination,
    body: request.body,
    config: options,
    notBefore: options.notBefore ?? now + (options.delayMs ?? 0),
    callerIP: request.callerIP,
    queueName: request.queueName,
  });
  const body = prepared.isGroup
    ? messages.map((message) => ({ messageId: message.messageId, url: message.url }))
    : { messageId: messages[0]?.messageId };
  if (dedupKey !== undefined) ctx.engine.rememberDedup(dedupKey, body);
  return { status: 200, body };
}

function markDeduplicated(response: unknown): unknown {
  if (Array.isArray(response)) return response.map((item) => ({ ...item, deduplicated: true }));
  return { ...(response as object), deduplicated: true };
}
