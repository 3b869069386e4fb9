import { nextFireTime, parseCron } from './cron.ts';
import { type DeliveryOutcome, deliver } from './deliver.ts';
import { parseDuration } from './duration.ts';
import { dlqId, randomId } from './ids.ts';
import { clampDelay, compileRetryDelay } from './retry-delay.ts';
import { signDelivery } from './signature.ts';
import type {
  CallbackConfig,
  DedupEntry,
  DlqEntry,
  LogEntry,
  LogState,
  MessageConfig,
  Snapshot,
  StoredMessage,
  StoredQueue,
  StoredSchedule,
  StoredTopic,
} from './types.ts';

/** QStash's default `Upstash-Retries` (OpenAPI: "the default of 3 retries is used"). */
export const DEFAULT_RETRIES = 3;
/** Deduplication ids are remembered for 10 minutes (OpenAPI, `Upstash-Deduplication-Id`). */
const DEDUP_WINDOW_MS = 10 * 60_000;
/** QStash keeps the last 10,000 log entries (its plans' "Max Events Size"). */
const MAX_EVENTS = 10_000;
/** setTimeout's ceiling; longer waits are re-armed in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;
const DAY_MS = 86_400_000;

export type EngineOptions = {
  /** The key deliveries are signed with; read per delivery so a rotation applies at once. */
  signingKey: () => string;
  retryBackoff: (attempt: number) => number;
  deliveryTimeoutMs: number;
  /** Response bodies kept for callbacks and the DLQ are cut to this size. */
  maxMessageSize: number;
  /** Called after every change of the persistent state. */
  onChange: () => void;
};

/** One message to create: a destination URL, its body and configuration. */
export type NewMessage = {
  url: string;
  body: Buffer;
  config: MessageConfig;
  notBefore: number;
  callerIP: string;
  topicName?: string;
  endpointName?: string;
  queueName?: string;
  scheduleId?: string;
  kind?: StoredMessage['kind'];
};

/** A publish to a URL or to every endpoint of a URL group. */
export type PublishInput = Omit<NewMessage, 'url' | 'topicName' | 'endpointName'> & {
  destination: string;
};

/**
 * The QStash state and its delivery machinery: pending messages with their timers, queues with
 * their parallelism, retries with backoff, the DLQ, callbacks, schedules and the event log. HTTP
 * routes call into it; it knows nothing of requests.
 */
export class Engine {
  readonly messages = new Map<string, StoredMessage>();
  readonly dlq = new Map<string, DlqEntry>();
  readonly schedules = new Map<string, StoredSchedule>();
  readonly queues = new Map<string, StoredQueue>();
  readonly topics = new Map<string, StoredTopic>();
  readonly dedup = new Map<string, DedupEntry>();
  /** Oldest first. */
  readonly events: LogEntry[] = [];

  readonly #options: EngineOptions;
  readonly #timers = new Map<string, NodeJS.Timeout>();
  readonly #queueTimers = new Map<string, NodeJS.Timeout>();
  readonly #inflight = new Map<string, Promise<void>>();
  /** Per queue, the messages holding one of its parallelism slots (from first try to outcome). */
  readonly #held = new Map<string, Set<string>>();
  readonly #stop = new AbortController();
  #scheduleTimer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: EngineOptions) {
    this.#options = options;
  }

  // --- messages ---------------------------------------------------------------------------

  /** Creates messages for a URL, or one per endpoint for a URL group name. */
  publish(input: PublishInput): StoredMessage[] {
    const { destination, ...rest } = input;
    if (/^https?:\/\//i.test(destination))
      return [this.createMessage({ ...rest, url: destination })];
    const group = this.topics.get(destination);
    if (!group) return [];
    return group.endpoints.map((endpoint) =>
      this.createMessage({
        ...rest,
        url: endpoint.url,
        topicName: group.name,
        endpointName: endpoint.name,
      }),
    );
  }

  createMessage(draft: NewMessage): StoredMessage {
    const config = draft.config;
    const message: StoredMessage = {
      messageId: randomId('msg_'),
      url: draft.url,
      method: config.method,
      header: config.header,
      body: draft.body.toString('base64'),
      maxRetries: config.retries ?? DEFAULT_RETRIES,
      retried: 0,
      retryDelay: config.retryDelay,
      timeoutMs: config.timeoutMs,
      callback: config.callback,
      failureCallback: config.failureCallback,
      labels: config.labels,
      flowControl: config.flowControl,
      notBefore: draft.notBefore,
      nextDeliveryTime: draft.notBefore,
      createdAt: Date.now(),
      callerIP: draft.callerIP,
      state: 'CREATED',
      topicName: draft.topicName,
      endpointName: draft.endpointName,
      queueName: draft.queueName,
      scheduleId: draft.scheduleId,
      kind: draft.kind,
    };
    if (message.queueName !== undefined) this.ensureQueue(message.queueName);
    this.messages.set(message.messageId, message);
    this.#log('CREATED', message);
    this.#changed();
    this.#dispatch(message);
    return message;
  }

  /** Cancels a pending message; a delivery already in flight finishes but is then ignored. */
  cancel(messageId: string): boolean {
    const message = this.messages.get(messageId);
    if (!message) return false;
    this.#finish(message);
    this.#log('CANCELED', message);
    this.#scheduleState(message, 'FAIL');
    this.#changed();
    return true;
  }

  // --- DLQ --------------------------------------------------------------------------------

  /** Re-publishes a DLQ message as a new message (QStash gives it a new id) and drops the entry. */
  retryDlq(entry: DlqEntry, overrides: Partial<MessageConfig> & { notBefore?: number }): string {
    this.dlq.delete(entry.dlqId);
    const config: MessageConfig = {
      method: entry.method,
      header: entry.header,
      retries: entry.maxRetries,
      retryDelay: entry.retryDelay,
      timeoutMs: entry.timeoutMs,
      callback: entry.callback,
      failureCallback: entry.failureCallback,
      labels: entry.labels,
      flowControl: entry.flowControl,
    };
    const { notBefore, ...configOverrides } = overrides;
    const message = this.createMessage({
      url: entry.url,
      body: Buffer.from(entry.body, 'base64'),
      config: { ...config, ...configOverrides },
      notBefore: notBefore ?? Date.now(),
      callerIP: entry.callerIP,
      topicName: entry.topicName,
      endpointName: entry.endpointName,
      queueName: entry.queueName,
      scheduleId: entry.scheduleId,
      kind: entry.kind,
    });
    return message.messageId;
  }

  deleteDlq(id: string): boolean {
    const deleted = this.dlq.delete(id);
    if (deleted) this.#changed();
    return deleted;
  }

  // --- queues -----------------------------------------------------------------------------

  ensureQueue(name: string): StoredQueue {
    let queue = this.queues.get(name);
    if (!queue) {
      const now = Date.now();
      queue = { name, parallelism: 1, paused: false, createdAt: now, updatedAt: now };
      this.queues.set(name, queue);
      this.#changed();
    }
    return queue;
  }

  upsertQueue(name: string, parallelism: number, paused: boolean): void {
    const queue = this.ensureQueue(name);
    queue.parallelism = parallelism;
    queue.paused = paused;
    queue.updatedAt = Date.now();
    this.#changed();
    this.#pump(name);
  }

  setQueuePaused(name: string, paused: boolean): void {
    const queue = this.ensureQueue(name);
    queue.paused = paused;
    queue.updatedAt = Date.now();
    this.#changed();
    this.#pump(name);
  }

  /** Deletes a queue and cancels what is still waiting in it. */
  deleteQueue(name: string): void {
    // Gone first, so cancelling its messages frees no slot for the next one to start.
    this.queues.delete(name);
    for (const message of [...this.messages.values()]) {
      if (message.queueName === name) this.cancel(message.messageId);
    }
    this.#held.delete(name);
    clearTimeout(this.#queueTimers.get(name));
    this.#queueTimers.delete(name);
    this.#changed();
  }

  queueLag(name: string): number {
    let lag = 0;
    for (const message of this.messages.values()) if (message.queueName === name) lag++;
    return lag;
  }

  // --- schedules --------------------------------------------------------------------------

  /** Creates or replaces a schedule and plans its next run from now. */
  upsertSchedule(schedule: StoredSchedule): void {
    const previous = this.schedules.get(schedule.scheduleId);
    if (previous) {
      schedule.createdAt = previous.createdAt;
      schedule.lastScheduleTime = previous.lastScheduleTime;
      schedule.lastScheduleStates = previous.lastScheduleStates;
    }
    schedule.nextScheduleTime = this.#nextRun(schedule, Date.now());
    this.schedules.set(schedule.scheduleId, schedule);
    this.#changed();
    this.#armSchedules();
  }

  setSchedulePaused(schedule: StoredSchedule, paused: boolean): void {
    schedule.isPaused = paused;
    // A resumed schedule fires at its next slot from now, not for the slots it slept through.
    if (!paused) schedule.nextScheduleTime = this.#nextRun(schedule, Date.now());
    this.#changed();
    this.#armSchedules();
  }

  deleteSchedule(scheduleId: string): boolean {
    const deleted = this.schedules.delete(scheduleId);
    if (deleted) {
      this.#changed();
      this.#armSchedules();
    }
    return deleted;
  }

  /**
   * Fires every active schedule whose next run is at or before `now` and plans its following run
   * after `now`. The timer calls it with the real time; tests call it (through the service's
   * `tick`) with the time a schedule is due, instead of waiting for the next minute.
   */
  fireDueSchedules(now: number): string[] {
    const created: string[] = [];
    for (const schedule of this.schedules.values()) {
      if (schedule.isPaused || schedule.nextScheduleTime === undefined) continue;
      if (schedule.nextScheduleTime > now) continue;
      schedule.lastScheduleTime = schedule.nextScheduleTime;
      schedule.nextScheduleTime = this.#nextRun(schedule, now);
      const messages = this.publish({
        destination: schedule.destination,
        body: Buffer.from(schedule.body, 'base64'),
        config: schedule,
        // Delivery is due on the real clock even when a test ticks with a time ahead of it.
        notBefore: Date.now() + (schedule.delayMs ?? 0),
        callerIP: schedule.callerIP,
        queueName: schedule.queueName,
        scheduleId: schedule.scheduleId,
      });
      schedule.lastScheduleStates = Object.fromEntries(
        messages.map((message) => [message.messageId, 'IN_PROGRESS' as const]),
      );
      created.push(...messages.map((message) => message.messageId));
      this.#changed();
    }
    this.#armSchedules();
    return created;
  }

  #nextRun(schedule: StoredSchedule, after: number): number | undefined {
    const parsed = parseCron(schedule.cron);
    return parsed.ok ? nextFireTime(parsed.value, after) : undefined;
  }

  #armSchedules(): void {
    clearTimeout(this.#scheduleTimer);
    this.#scheduleTimer = undefined;
    if (this.#closed) return;
    let next = Number.POSITIVE_INFINITY;
    for (const schedule of this.schedules.values()) {
      if (!schedule.isPaused && schedule.nextScheduleTime !== undefined) {
        next = Math.min(next, schedule.nextScheduleTime);
      }
    }
    if (next === Number.POSITIVE_INFINITY) return;
    const wait = Math.min(MAX_TIMER_MS, Math.max(0, next - Date.now()));
    this.#scheduleTimer = setTimeout(() => {
      if (Date.now() < next) this.#armSchedules();
      else this.fireDueSchedules(Date.now());
    }, wait);
    this.#scheduleTimer.unref();
  }

  // --- deduplication ----------------------------------------------------------------------

  deduplicated(key: string): unknown {
    const entry = this.dedup.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt > Date.now()) return entry.response;
    this.dedup.delete(key);
    return undefined;
  }

  rememberDedup(key: string, response: unknown): void {
    const now = Date.now();
    for (const [other, entry] of this.dedup) if (entry.expiresAt <= now) this.dedup.delete(other);
    this.dedup.set(key, { expiresAt: now + DEDUP_WINDOW_MS, response });
    this.#changed();
  }

  // --- persistence and lifecycle ----------------------------------------------------------

  snapshot(): Snapshot {
    const now = Date.now();
    return {
      version: 1,
      messages: [...this.messages.values()],
      dlq: [...this.dlq.values()],
      schedules: [...this.schedules.values()],
      queues: [...this.queues.values()],
      topics: [...this.topics.values()],
      dedup: [...this.dedup.entries()].filter(([, entry]) => entry.expiresAt > now),
    };
  }

  /** Loads a snapshot. A message that was in flight when the last process stopped is pending again. */
  restore(snapshot: Snapshot): void {
    for (const message of snapshot.messages) {
      if (message.state === 'ACTIVE') message.state = message.retried > 0 ? 'RETRY' : 'CREATED';
      this.messages.set(message.messageId, message);
    }
    for (const entry of snapshot.dlq) this.dlq.set(entry.dlqId, entry);
    for (const schedule of snapshot.schedules) this.schedules.set(schedule.scheduleId, schedule);
    for (const queue of snapshot.queues) this.queues.set(queue.name, queue);
    for (const topic of snapshot.topics) this.topics.set(topic.name, topic);
    for (const [key, entry] of snapshot.dedup) this.dedup.set(key, entry);
  }

  /** Starts the timers for everything restored. */
  start(): void {
    for (const message of this.messages.values()) {
      if (message.queueName !== undefined) this.ensureQueue(message.queueName);
      this.#dispatch(message);
    }
    this.#armSchedules();
  }

  /**
   * Stops every timer and aborts deliveries in flight. An aborted delivery is neither a success
   * nor a failure: the message stays pending, with its retry count unchanged, for the next start.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#scheduleTimer);
    for (const timer of this.#timers.values()) clearTimeout(timer);
    for (const timer of this.#queueTimers.values()) clearTimeout(timer);
    this.#timers.clear();
    this.#queueTimers.clear();
    this.#stop.abort();
    await Promise.allSettled([...this.#inflight.values()]);
  }

  // --- delivery ---------------------------------------------------------------------------

  #dispatch(message: StoredMessage): void {
    if (this.#closed) return;
    const queue = message.queueName;
    if (queue !== undefined && !this.#held.get(queue)?.has(message.messageId)) this.#pump(queue);
    else this.#arm(message.messageId, message.nextDeliveryTime);
  }

  #arm(messageId: string, at: number): void {
    clearTimeout(this.#timers.get(messageId));
    if (this.#closed) return;
    const timer = setTimeout(
      () => {
        this.#timers.delete(messageId);
        if (Date.now() < at) this.#arm(messageId, at);
        else void this.#attempt(messageId);
      },
      Math.min(MAX_TIMER_MS, Math.max(0, at - Date.now())),
    );
    timer.unref();
    this.#timers.set(messageId, timer);
  }

  /** Starts waiting messages of a queue, oldest first, while it has free parallelism. */
  #pump(name: string): void {
    if (this.#closed) return;
    const queue = this.queues.get(name);
    if (!queue || queue.paused) return;
    let held = this.#held.get(name);
    if (!held) {
      held = new Set();
      this.#held.set(name, held);
    }
    const now = Date.now();
    let wakeAt = Number.POSITIVE_INFINITY;
    for (const message of this.messages.values()) {
      if (held.size >= queue.parallelism) break;
      if (message.queueName !== name || held.has(message.messageId)) continue;
      if (message.nextDeliveryTime > now) {
        wakeAt = Math.min(wakeAt, message.nextDeliveryTime);
        continue;
      }
      held.add(message.messageId);
      void this.#attempt(message.messageId);
    }
    clearTimeout(this.#queueTimers.get(name));
    if (wakeAt !== Number.POSITIVE_INFINITY) {
      const timer = setTimeout(() => this.#pump(name), Math.min(MAX_TIMER_MS, wakeAt - now));
      timer.unref();
      this.#queueTimers.set(name, timer);
    }
  }

  async #attempt(messageId: string): Promise<void> {
    const message = this.messages.get(messageId);
    if (!message || this.#closed || this.#inflight.has(messageId)) return;
    const run = this.#run(message);
    this.#inflight.set(messageId, run);
    try {
      await run;
    } finally {
      this.#inflight.delete(messageId);
    }
  }

  async #run(message: StoredMessage): Promise<void> {
    message.state = 'ACTIVE';
    this.#log('ACTIVE', message);
    this.#changed();
    let outcome: DeliveryOutcome;
    try {
      outcome = await this.#send(message);
    } catch (error) {
      // Nothing in a delivery may take the process down; an unexpected error is a failed attempt.
      outcome = { kind: 'error', message: (error as Error).message };
    }
    if (outcome.kind === 'aborted') {
      if (this.messages.get(message.messageId) === message) {
        message.state = message.retried > 0 ? 'RETRY' : 'CREATED';
        this.#changed();
      }
      return;
    }
    // Cancelled while in flight: the outcome no longer matters.
    if (this.messages.get(message.messageId) !== message) return;
    if (outcome.kind === 'response' && outcome.status >= 200 && outcome.status < 300) {
      this.#delivered(message, outcome);
    } else this.#failed(message, outcome);
  }

  async #send(message: StoredMessage): Promise<DeliveryOutcome> {
    const body = Buffer.from(message.body, 'base64');
    const signature = await signDelivery({
      signingKey: this.#options.signingKey(),
      url: message.url,
      body,
      now: Date.now(),
    });
    // Cancelled while signing: send nothing.
    if (this.messages.get(message.messageId) !== message) return { kind: 'aborted' };
    const timeoutMs =
      message.timeoutMs !== undefined && message.timeoutMs > 0
        ? Math.min(message.timeoutMs, this.#options.deliveryTimeoutMs)
        : this.#options.deliveryTimeoutMs;
    return deliver({
      url: message.url,
      method: message.method,
      headers: this.#deliveryHeaders(message, signature),
      body,
      timeoutMs,
      maxBody: this.#options.maxMessageSize,
      signal: this.#stop.signal,
    });
  }

  // The request QStash makes (upstash.com/docs/qstash/howto/receiving): forwarded headers, then
  // its own, which win over a forwarded header of the same name.
  #deliveryHeaders(message: StoredMessage, signature: string): [string, string][] {
    const own: [string, string][] = [
      ['User-Agent', 'Upstash-QStash'],
      ['Upstash-Message-Id', message.messageId],
      ['Upstash-Retried', String(message.retried)],
      ['Upstash-Signature', signature],
      ['Upstash-Caller-Ip', message.callerIP],
    ];
    if (message.scheduleId !== undefined) own.push(['Upstash-Schedule-Id', message.scheduleId]);
    if (message.topicName !== undefined) own.push(['Upstash-Topic-Name', message.topicName]);
    const taken = new Set(own.map(([name]) => name.toLowerCase()));
    const headers: [string, string][] = [];
    for (const [name, values] of Object.entries(message.header)) {
      if (taken.has(name.toLowerCase())) continue;
      for (const value of values) headers.push([name, value]);
    }
    return [...headers, ...own];
  }

  #delivered(message: StoredMessage, outcome: Extract<DeliveryOutcome, { kind: 'response' }>) {
    this.#finish(message);
    this.#log('DELIVERED', message, { responseStatus: outcome.status });
    this.#scheduleState(message, 'SUCCESS');
    this.#callback(message, outcome);
    this.#changed();
  }

  #failed(message: StoredMessage, outcome: DeliveryOutcome): void {
    const response = outcome.kind === 'response' ? outcome : undefined;
    const error = describeFailure(outcome);
    this.#log('ERROR', message, {
      error,
      responseStatus: response?.status,
      responseHeaders: response?.header,
      responseBody: response?.body.toString('base64'),
    });
    if (response) this.#callback(message, response);
    // A 489 with `Upstash-NonRetryable-Error: true` skips the remaining retries (retry docs).
    const nonRetryable =
      response?.status === 489 && response.header['Upstash-Nonretryable-Error']?.[0] === 'true';
    if (nonRetryable || message.retried >= message.maxRetries) {
      this.#toDlq(message, response, error);
      return;
    }
    message.retried += 1;
    message.nextDeliveryTime = Date.now() + this.#retryDelay(message, response);
    message.state = 'RETRY';
    this.#log('RETRY', message, { nextDeliveryTime: message.nextDeliveryTime });
    this.#changed();
    this.#arm(message.messageId, message.nextDeliveryTime);
  }

  #retryDelay(
    message: StoredMessage,
    response: Extract<DeliveryOutcome, { kind: 'response' }> | undefined,
  ): number {
    const retryAfter = response && retryAfterMs(response.header);
    if (retryAfter !== undefined) return retryAfter;
    if (message.retryDelay !== undefined) {
      const compiled = compileRetryDelay(message.retryDelay);
      // `retried` in the expression counts from 0 for the first retry.
      if (compiled.ok) return compiled.value(message.retried - 1);
    }
    return this.#options.retryBackoff(message.retried);
  }

  #toDlq(
    message: StoredMessage,
    response: Extract<DeliveryOutcome, { kind: 'response' }> | undefined,
    error: string | undefined,
  ): void {
    this.#finish(message);
    const now = Date.now();
    let id = dlqId(now);
    while (this.dlq.has(id)) id = dlqId(now);
    const entry: DlqEntry = {
      ...message,
      dlqId: id,
      failedAt: now,
      responseStatus: response?.status,
      responseHeader: response?.header,
      responseBody: response?.body.toString('base64'),
      error,
    };
    this.dlq.set(id, entry);
    this.#log('FAILED', message, { error, responseStatus: response?.status });
    this.#scheduleState(message, 'FAIL');
    if (message.failureCallback && message.kind === undefined) {
      this.#publishCallback(message, message.failureCallback, 'failure-callback', {
        ...this.#callbackBody(message, response),
        dlqId: id,
      });
    }
    this.#changed();
  }

  /** A callback is published after every attempt that got a response (callbacks docs). */
  #callback(message: StoredMessage, response: Extract<DeliveryOutcome, { kind: 'response' }>) {
    if (!message.callback || message.kind !== undefined) return;
    this.#publishCallback(
      message,
      message.callback,
      'callback',
      this.#callbackBody(message, response),
    );
  }

  // The callback body of upstash.com/docs/qstash/features/callbacks.
  #callbackBody(
    message: StoredMessage,
    response: Extract<DeliveryOutcome, { kind: 'response' }> | undefined,
  ): Record<string, unknown> {
    return {
      status: response?.status ?? 0,
      header: response?.header ?? {},
      body: response?.body.toString('base64') ?? '',
      retried: message.retried,
      maxRetries: message.maxRetries,
      sourceMessageId: message.messageId,
      topicName: message.topicName,
      endpointName: message.endpointName,
      url: message.url,
      method: message.method,
      sourceHeader: message.header,
      sourceBody: message.body,
      notBefore: message.notBefore,
      createdAt: message.createdAt,
      scheduleId: message.scheduleId,
      callerIP: message.callerIP,
    };
  }

  #publishCallback(
    source: StoredMessage,
    config: CallbackConfig,
    kind: 'callback' | 'failure-callback',
    payload: Record<string, unknown>,
  ): void {
    this.createMessage({
      url: config.url,
      body: Buffer.from(JSON.stringify(payload)),
      config: {
        method: config.method,
        header: { 'Content-Type': ['application/json'], ...config.header },
        // "Callbacks will use the retry setting from the original request" (OpenAPI).
        retries: config.retries ?? source.maxRetries,
        retryDelay: config.retryDelay ?? source.retryDelay,
        timeoutMs: config.timeoutMs ?? source.timeoutMs,
      },
      notBefore: Date.now() + (config.delayMs ?? 0),
      callerIP: source.callerIP,
      kind,
    });
  }

  /** Removes a message that reached an outcome and frees its queue slot. */
  #finish(message: StoredMessage): void {
    this.messages.delete(message.messageId);
    clearTimeout(this.#timers.get(message.messageId));
    this.#timers.delete(message.messageId);
    const queue = message.queueName;
    if (queue !== undefined && this.#held.get(queue)?.delete(message.messageId)) this.#pump(queue);
  }

  #scheduleState(message: StoredMessage, state: 'SUCCESS' | 'FAIL'): void {
    if (message.scheduleId === undefined) return;
    const schedule = this.schedules.get(message.scheduleId);
    if (schedule && schedule.lastScheduleStates[message.messageId] !== undefined) {
      schedule.lastScheduleStates[message.messageId] = state;
    }
  }

  #log(state: LogState, message: StoredMessage, extra: Partial<LogEntry> = {}): void {
    this.events.push({
      time: Date.now(),
      state,
      messageId: message.messageId,
      url: message.url,
      method: message.method,
      maxRetries: message.maxRetries,
      topicName: message.topicName,
      endpointName: message.endpointName,
      queueName: message.queueName,
      scheduleId: message.scheduleId,
      header: message.header,
      body: message.body,
      callback: message.callback?.url,
      failureCallback: message.failureCallback?.url,
      label: message.labels?.[0],
      labels: message.labels,
      callerIP: message.callerIP,
      flowControlKey: message.flowControl?.key,
      ...extra,
    });
    if (this.events.length > MAX_EVENTS) this.events.splice(0, this.events.length - MAX_EVENTS);
  }

  #changed(): void {
    this.#options.onChange();
  }

  /** For changes made to the maps directly (URL groups). */
  markChanged(): void {
    this.#changed();
  }
}

function describeFailure(outcome: DeliveryOutcome): string | undefined {
  switch (outcome.kind) {
    case 'response':
      return `status ${outcome.status}`;
    case 'timeout':
      return 'context deadline exceeded (Client.Timeout exceeded while awaiting headers)';
    case 'error':
      return outcome.message;
    default:
      return undefined;
  }
}

/**
 * A destination may say when to retry with `Retry-After` (or the `X-RateLimit-Reset*` headers):
 * seconds, a Go duration or an HTTP date. Values over a day fall back to the backoff (retry docs).
 */
function retryAfterMs(header: Record<string, string[]>): number | undefined {
  for (const name of [
    'Retry-After',
    'X-Ratelimit-Reset',
    'X-Ratelimit-Reset-Requests',
    'X-Ratelimit-Reset-Tokens',
  ]) {
    const value = header[name]?.[0]?.trim();
    if (value === undefined || value === '') continue;
    let ms: number | undefined;
    if (/^\d+$/.test(value)) ms = Number(value) * 1000;
    else {
      const duration = parseDuration(value);
      if (duration.ok) ms = duration.value;
      else {
        const date = Date.parse(value);
        if (!Number.isNaN(date)) ms = date - Date.now();
      }
    }
    if (ms === undefined || ms > DAY_MS) return undefined;
    return clampDelay(ms);
  }
  return undefined;
}
