import type { HeaderMap } from './types.ts';

/**
 * A query parameter's values: repeated (`label=a&label=b`) or comma-separated (`label=a,b`),
 * both of which QStash accepts for its multi-value filters.
 */
export function multi(query: URLSearchParams, name: string): string[] | undefined {
  const values = query
    .getAll(name)
    .flatMap((value) => value.split(','))
    .map((value) => value.trim())
    .filter((value) => value !== '');
  return values.length > 0 ? values : undefined;
}

/** What the DLQ, cancel and log filters can look at. */
export type Filterable = {
  messageId: string;
  url: string;
  topicName?: string;
  scheduleId?: string;
  queueName?: string;
  callerIP?: string;
  labels?: string[];
  flowControl?: { key: string };
  flowControlKey?: string;
  responseStatus?: number;
  state?: string;
  header?: HeaderMap;
};

/**
 * Builds a predicate from QStash's filter parameters. Values of one filter are OR-ed, filters are
 * AND-ed (OpenAPI, "For multi-value filters ..."). `timeOf` says which timestamp the date range
 * applies to.
 */
export function buildFilter<T extends Filterable>(
  query: URLSearchParams,
  timeOf: (item: T) => number,
): (item: T) => boolean {
  const messageIds = multi(query, 'messageId');
  const urls = multi(query, 'url');
  const topics = multi(query, 'topicName');
  const schedules = multi(query, 'scheduleId');
  const queues = multi(query, 'queueName');
  const callerIps = [...(multi(query, 'callerIp') ?? []), ...(multi(query, 'callerIP') ?? [])];
  const labels = multi(query, 'label');
  const flowKeys = multi(query, 'flowControlKey');
  const statuses = multi(query, 'responseStatus')?.map(Number);
  const hosts = multi(query, 'host');
  const paths = multi(query, 'path');
  const states = multi(query, 'state');
  const fromDate = query.get('fromDate');
  const toDate = query.get('toDate');
  const from = fromDate ? Number(fromDate) : undefined;
  const to = toDate ? Number(toDate) : undefined;
  const has = (list: string[] | undefined, value: string | undefined) =>
    list === undefined || (value !== undefined && list.includes(value));
  return (item) => {
    if (!has(messageIds, item.messageId)) return false;
    if (!has(urls, item.url)) return false;
    if (!has(topics, item.topicName)) return false;
    if (!has(schedules, item.scheduleId)) return false;
    if (!has(queues, item.queueName)) return false;
    if (callerIps.length > 0 && !has(callerIps, item.callerIP)) return false;
    if (labels && !item.labels?.some((label) => labels.includes(label))) return false;
    if (!has(flowKeys, item.flowControl?.key ?? item.flowControlKey)) return false;
    if (
      statuses &&
      (item.responseStatus === undefined || !statuses.includes(item.responseStatus))
    ) {
      return false;
    }
    if (states && !(item.state !== undefined && matchesState(states, item.state))) return false;
    if (hosts || paths) {
      let url: URL | undefined;
      try {
        url = new URL(item.url);
      } catch {
        return false;
      }
      if (!has(hosts, url.host) && !has(hosts, url.hostname)) return false;
      if (!has(paths, url.pathname)) return false;
    }
    const time = timeOf(item);
    if (from !== undefined && !Number.isNaN(from) && time < from) return false;
    if (to !== undefined && !Number.isNaN(to) && time > to) return false;
    return true;
  };
}

// IN_PROGRESS is a log filter meaning any of ACTIVE, RETRY or ERROR (OpenAPI, List Logs).
function matchesState(states: string[], state: string): boolean {
  if (states.includes(state)) return true;
  return states.includes('IN_PROGRESS') && ['ACTIVE', 'RETRY', 'ERROR'].includes(state);
}

/** `count` as the listing endpoints read it: default and maximum as documented. */
export function countParam(query: URLSearchParams, fallback: number, max: number): number {
  const raw = query.get('count');
  if (raw === null) return fallback;
  const count = Number.parseInt(raw, 10);
  if (Number.isNaN(count) || count <= 0) return fallback;
  return Math.min(count, max);
}
