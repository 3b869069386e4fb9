/** Header names in Go's canonical form (`Content-Type`) to their values, as QStash reports them. */
export type HeaderMap = Record<string, string[]>;

export type FlowControl = { key: string; parallelism?: number; rate?: number; period?: number };

/** Where and how a callback (or failure callback) of a message is published. */
export type CallbackConfig = {
  url: string;
  method: string;
  header: HeaderMap;
  retries?: number;
  timeoutMs?: number;
  delayMs?: number;
  retryDelay?: string;
};

/** Everything the `Upstash-*` headers of a publish configure, shared by messages and schedules. */
export type MessageConfig = {
  method: string;
  /** Headers delivered with the message: `Content-Type` and the `Upstash-Forward-*` ones. */
  header: HeaderMap;
  retries?: number;
  retryDelay?: string;
  timeoutMs?: number;
  callback?: CallbackConfig;
  failureCallback?: CallbackConfig;
  labels?: string[];
  flowControl?: FlowControl;
};

export type MessageState = 'CREATED' | 'ACTIVE' | 'RETRY' | 'ERROR';

/** A message waiting for delivery (or in flight). Persisted as is; `body` is base64. */
export type StoredMessage = MessageConfig & {
  messageId: string;
  url: string;
  body: string;
  maxRetries: number;
  /** How many times delivery has been retried so far; sent as `Upstash-Retried`. */
  retried: number;
  notBefore: number;
  nextDeliveryTime: number;
  createdAt: number;
  callerIP: string;
  state: MessageState;
  topicName?: string;
  endpointName?: string;
  queueName?: string;
  scheduleId?: string;
  /** Callbacks are messages too, but their outcome triggers no further callbacks. */
  kind?: 'callback' | 'failure-callback';
};

export type DlqEntry = StoredMessage & {
  dlqId: string;
  failedAt: number;
  responseStatus?: number;
  responseHeader?: HeaderMap;
  /** base64 of the last response body. */
  responseBody?: string;
  error?: string;
};

export type StoredSchedule = MessageConfig & {
  scheduleId: string;
  cron: string;
  destination: string;
  body: string;
  delayMs?: number;
  queueName?: string;
  createdAt: number;
  callerIP: string;
  isPaused: boolean;
  lastScheduleTime?: number;
  nextScheduleTime?: number;
  lastScheduleStates: Record<string, 'IN_PROGRESS' | 'SUCCESS' | 'FAIL'>;
};

export type StoredQueue = {
  name: string;
  parallelism: number;
  paused: boolean;
  createdAt: number;
  updatedAt: number;
};

export type Endpoint = { name?: string; url: string };

export type StoredTopic = {
  name: string;
  createdAt: number;
  updatedAt: number;
  endpoints: Endpoint[];
};

/** What a deduplicated publish answers again: the first publish's response. */
export type DedupEntry = { expiresAt: number; response: unknown };

export type LogState =
  | 'CREATED'
  | 'ACTIVE'
  | 'RETRY'
  | 'ERROR'
  | 'DELIVERED'
  | 'FAILED'
  | 'CANCELED';

export type LogEntry = {
  time: number;
  state: LogState;
  messageId: string;
  url: string;
  method: string;
  maxRetries: number;
  topicName?: string;
  endpointName?: string;
  queueName?: string;
  scheduleId?: string;
  header?: HeaderMap;
  body?: string;
  error?: string;
  nextDeliveryTime?: number;
  responseStatus?: number;
  responseHeaders?: HeaderMap;
  responseBody?: string;
  callback?: string;
  failureCallback?: string;
  label?: string;
  labels?: string[];
  callerIP?: string;
  flowControlKey?: string;
};

/** The state written to `dataDir`. */
export type Snapshot = {
  version: 1;
  messages: StoredMessage[];
  dlq: DlqEntry[];
  schedules: StoredSchedule[];
  queues: StoredQueue[];
  topics: StoredTopic[];
  dedup: [string, DedupEntry][];
};
