import type { Context, Hono } from 'hono';
import {
  callerIp,
  decodeSegment,
  GROUP_NAME,
  limitBody,
  type QStashContext,
  rawTail,
} from '../context.ts';
import { parseCron } from '../cron.ts';
import { badRequest, notFound } from '../errors.ts';
import { randomId } from '../ids.ts';
import { schedulePayload } from '../payloads.ts';
import { preparePublish } from '../publishing.ts';
import type { StoredSchedule } from '../types.ts';

export function registerSchedules(app: Hono, ctx: QStashContext) {
  app.get('/v2/schedules', (c) => c.json([...ctx.engine.schedules.values()].map(schedulePayload)));

  app.get('/v2/schedules/:scheduleId', (c) => c.json(schedulePayload(find(ctx, c))));

  app.delete('/v2/schedules/:scheduleId', (c) => {
    if (!ctx.engine.deleteSchedule(c.req.param('scheduleId'))) throw notFound('schedule not found');
    return c.body(null, 200);
  });

  // The SDK pauses and resumes with PATCH; the OpenAPI documents POST. Both work.
  for (const action of ['pause', 'resume'] as const) {
    app.patch(`/v2/schedules/:scheduleId/${action}`, (c) => {
      ctx.engine.setSchedulePaused(find(ctx, c), action === 'pause');
      return c.body(null, 200);
    });
  }

  // `POST /v2/schedules/{destination}` creates (or, with `Upstash-Schedule-Id`, replaces) a
  // schedule; `POST /v2/schedules/{id}/pause|resume` shares the prefix.
  app.post('/v2/schedules/*', limitBody(ctx.maxMessageSize), async (c) => {
    const tail = rawTail(c, '/v2/schedules/');
    const action = /^([^/?]+)\/(pause|resume)$/.exec(tail);
    if (action && !/^https?:/i.test(tail)) {
      const schedule = ctx.engine.schedules.get(decodeSegment(action[1] ?? ''));
      if (!schedule) throw notFound('schedule not found');
      ctx.engine.setSchedulePaused(schedule, action[2] === 'pause');
      return c.body(null, 200);
    }
    const headers = c.req.raw.headers;
    const cron = (headers.get('Upstash-Cron') ?? '').trim();
    const parsedCron = parseCron(cron);
    // robfig/cron's text behind QStash's prefix (github.com/upstash/qstash-js/pull/50).
    if (!parsedCron.ok) throw badRequest(`Invalid cron expression ${parsedCron.error}`);
    const scheduleId = headers.get('Upstash-Schedule-Id') ?? randomId('scd_');
    if (!GROUP_NAME.test(scheduleId)) {
      throw badRequest(
        'Schedule ID is invalid. Schedule IDs can only contain alphanumeric characters, hyphens, periods, and underscores.',
      );
    }
    const queueName = headers.get('Upstash-Queue-Name') ?? undefined;
    const { request, options } = preparePublish(ctx, {
      destination: tail,
      headers,
      body: Buffer.from(await c.req.arrayBuffer()),
      callerIP: callerIp(c),
      queueName,
    });
    const schedule: StoredSchedule = {
      scheduleId,
      cron,
      destination: request.destination,
      body: request.body.toString('base64'),
      method: options.method,
      header: options.header,
      retries: options.retries,
      retryDelay: options.retryDelay,
      timeoutMs: options.timeoutMs,
      callback: options.callback,
      failureCallback: options.failureCallback,
      labels: options.labels,
      flowControl: options.flowControl,
      delayMs: options.delayMs,
      queueName,
      createdAt: Date.now(),
      callerIP: request.callerIP,
      isPaused: false,
      lastScheduleStates: {},
    };
    ctx.engine.upsertSchedule(schedule);
    return c.json({ scheduleId });
  });
}

function find(ctx: QStashContext, c: Context): StoredSchedule {
  const schedule = ctx.engine.schedules.get(c.req.param('scheduleId') ?? '');
  if (!schedule) throw notFound('schedule not found');
  return schedule;
}
