import type { DlqEntry, LogEntry, StoredMessage, StoredSchedule } from './types.ts';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * QStash reports a body as `body` when it is UTF-8 and as `bodyBase64` otherwise (its OpenAPI
 * `Message` schema); an empty body is left out.
 */
export function bodyFields(base64: string, names = { text: 'body', binary: 'bodyBase64' }) {
  const bytes = Buffer.from(base64, 'base64');
  if (bytes.length === 0) return {};
  try {
    return { [names.text]: strictUtf8.decode(bytes) };
  } catch {
    return { [names.binary]: base64 };
  }
}

/** Drops `undefined` members so the JSON has the shape of QStash's `omitempty` fields. */
function compact<T extends Record<string, unknown>>(value: T): T {
  for (const key of Object.keys(value)) if (value[key] === undefined) delete value[key];
  return value;
}

function flowFields(flow: StoredMessage['flowControl']) {
  return {
    flowControlKey: flow?.key,
    parallelism: flow?.parallelism,
    rate: flow?.rate,
    period: flow?.period,
  };
}

/** The `Message` of `GET /v2/messages/{id}` (QStash OpenAPI; the SDK maps `topicName`). */
export function messagePayload(message: StoredMessage) {
  return compact({
    messageId: message.messageId,
    url: message.url,
    topicName: message.topicName,
    endpointName: message.endpointName,
    method: message.method,
    header: message.header,
    ...bodyFields(message.body),
    maxRetries: message.maxRetries,
    retryDelayExpression: message.retryDelay,
    notBefore: message.notBefore,
    createdAt: message.createdAt,
    callback: message.callback?.url,
    failureCallback: message.failureCallback?.url,
    queueName: message.queueName,
    scheduleId: message.scheduleId,
    callerIP: message.callerIP,
    label: message.labels?.[0],
    labels: message.labels,
    ...flowFields(message.flowControl),
  });
}

export function dlqPayload(entry: DlqEntry) {
  return compact({
    ...messagePayload(entry),
    dlqId: entry.dlqId,
    responseStatus: entry.responseStatus,
    responseHeader: entry.responseHeader,
    ...(entry.responseBody === undefined
      ? {}
      : bodyFields(entry.responseBody, { text: 'responseBody', binary: 'responseBodyBase64' })),
  });
}

export function schedulePayload(schedule: StoredSchedule) {
  return compact({
    scheduleId: schedule.scheduleId,
    cron: schedule.cron,
    createdAt: schedule.createdAt,
    destination: schedule.destination,
    method: schedule.method,
    header: schedule.header,
    ...bodyFields(schedule.body),
    retries: schedule.retries ?? 3,
    retryDelayExpression: schedule.retryDelay,
    delay: schedule.delayMs === undefined ? undefined : Math.round(schedule.delayMs / 1000),
    callback: schedule.callback?.url,
    failureCallback: schedule.failureCallback?.url,
    callerIP: schedule.callerIP,
    isPaused: schedule.isPaused,
    queueName: schedule.queueName,
    label: schedule.labels?.[0],
    labels: schedule.labels,
    lastScheduleTime: schedule.lastScheduleTime,
    nextScheduleTime: schedule.isPaused ? undefined : schedule.nextScheduleTime,
    lastScheduleStates:
      Object.keys(schedule.lastScheduleStates).length > 0 ? schedule.lastScheduleStates : undefined,
    ...flowFields(schedule.flowControl),
  });
}

export function logPayload(entry: LogEntry) {
  return compact({ ...entry });
}
