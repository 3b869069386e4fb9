import { describe, expect, it } from 'vitest';
import {
  type Destination,
  eventually,
  freshServiceAndDestination,
  header,
  type Setup,
  sleep,
} from './harness.ts';

let setup: Setup;
let destination: Destination;

freshServiceAndDestination((s, d) => {
  setup = s;
  destination = d;
});

const MINUTE = 60_000;

/** The hour and minute of `time` on the wall clock of `timeZone`. */
function wallClock(time: number, timeZone: string): string {
  return new Intl.DateTimeFormat('en-GB', {
    timeZone,
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(time);
}

describe('schedules', () => {
  it('creates a schedule and reports it like QStash', async () => {
    const { scheduleId } = await setup.client.schedules.create({
      destination: `${destination.url}/cron`,
      cron: '*/10 * * * * ',
      body: JSON.stringify({ hello: 'world' }),
      headers: { 'test-header': 'test-value' },
      method: 'PUT',
      retries: 5,
      delay: 10,
      callback: `${destination.url}/cb`,
      failureCallback: `${destination.url}/fail`,
      queueName: 'scheduled',
      label: 'nightly',
    });
    expect(scheduleId).toMatch(/^scd_/);
    const schedule = await setup.client.schedules.get(scheduleId);
    expect(schedule).toMatchObject({
      scheduleId,
      cron: '*/10 * * * *',
      destination: `${destination.url}/cron`,
      method: 'PUT',
      header: { 'Content-Type': ['application/json'], 'Test-Header': ['test-value'] },
      body: '{"hello":"world"}',
      retries: 5,
      delay: 10,
      callback: `${destination.url}/cb`,
      failureCallback: `${destination.url}/fail`,
      queueName: 'scheduled',
      isPaused: false,
      label: 'nightly',
    });
    expect(schedule.nextScheduleTime).toBeGreaterThan(Date.now());
    expect((schedule.nextScheduleTime ?? 0) % (10 * MINUTE)).toBe(0);
    expect((await setup.client.schedules.list()).map((s) => s.scheduleId)).toEqual([scheduleId]);
  });

  it('fires on time: tick at the next minute delivers the message with Upstash-Schedule-Id', async () => {
    const { scheduleId } = await setup.client.schedules.create({
      destination: destination.url,
      cron: '* * * * *',
      body: 'tick',
    });
    const due = (await setup.client.schedules.get(scheduleId)).nextScheduleTime ?? 0;
    expect(due % MINUTE).toBe(0);
    expect(due - Date.now()).toBeLessThanOrEqual(MINUTE);

    expect(setup.service.tick(due - 1)).toEqual([]);
    const [messageId] = setup.service.tick(due);
    const [request] = await destination.waitFor(1);
    expect(request?.body.toString()).toBe('tick');
    expect(header(request, 'upstash-schedule-id')).toBe(scheduleId);
    expect(header(request, 'upstash-message-id')).toBe(messageId);

    const after = await setup.client.schedules.get(scheduleId);
    expect(after.lastScheduleTime).toBe(due);
    expect(after.nextScheduleTime).toBe(due + MINUTE);
    await eventually(async () =>
      expect((await setup.client.schedules.get(scheduleId)).lastScheduleStates).toEqual({
        [messageId as string]: 'SUCCESS',
      }),
    );
    // The same slot does not fire twice.
    expect(setup.service.tick(due)).toEqual([]);
  });

  it('evaluates CRON_TZ= crons in their time zone', async () => {
    const { scheduleId } = await setup.client.schedules.create({
      destination: destination.url,
      cron: 'CRON_TZ=America/New_York 30 4 * * *',
    });
    const schedule = await setup.client.schedules.get(scheduleId);
    expect(schedule.cron).toBe('CRON_TZ=America/New_York 30 4 * * *');
    expect(wallClock(schedule.nextScheduleTime ?? 0, 'America/New_York')).toBe('04:30');
    const utc = await setup.client.schedules.create({
      destination: destination.url,
      cron: '30 4 * * *',
    });
    const utcNext = (await setup.client.schedules.get(utc.scheduleId)).nextScheduleTime ?? 0;
    expect(wallClock(utcNext, 'UTC')).toBe('04:30');
  });

  it('upserts with Upstash-Schedule-Id', async () => {
    await setup.client.schedules.create({
      scheduleId: 'my-schedule_1',
      destination: `${destination.url}/a`,
      cron: '*/5 * * * *',
      body: 'payload',
    });
    const result = await setup.client.schedules.create({
      scheduleId: 'my-schedule_1',
      destination: `${destination.url}/b`,
      cron: '0 * * * *',
    });
    expect(result).toEqual({ scheduleId: 'my-schedule_1' });
    const schedules = await setup.client.schedules.list();
    expect(schedules).toHaveLength(1);
    expect(schedules[0]).toMatchObject({ destination: `${destination.url}/b`, cron: '0 * * * *' });
    expect(schedules[0]?.body).toBeUndefined();
  });

  it('pauses, resumes and deletes; a paused schedule does not fire', async () => {
    const { scheduleId } = await setup.client.schedules.create({
      destination: destination.url,
      cron: '* * * * *',
    });
    const due = (await setup.client.schedules.get(scheduleId)).nextScheduleTime ?? 0;
    await setup.client.schedules.pause({ schedule: scheduleId });
    expect((await setup.client.schedules.get(scheduleId)).isPaused).toBe(true);
    expect(setup.service.tick(due + MINUTE)).toEqual([]);
    await setup.client.schedules.resume({ schedule: scheduleId });
    const resumed = await setup.client.schedules.get(scheduleId);
    expect(resumed.isPaused).toBe(false);
    expect(setup.service.tick(resumed.nextScheduleTime)).toHaveLength(1);
    await destination.waitFor(1);

    await setup.client.schedules.delete(scheduleId);
    await expect(setup.client.schedules.get(scheduleId)).rejects.toMatchObject({ status: 404 });
    expect(setup.service.tick(Date.now() + 10 * MINUTE)).toEqual([]);
    await sleep(50);
    expect(destination.requests).toHaveLength(1);
  });

  it('fires from its own timer, without a tick', async () => {
    // robfig/cron's `@every` gives a sub-minute schedule, so the real timer can be watched.
    const { scheduleId } = await setup.client.schedules.create({
      destination: destination.url,
      cron: '@every 1s',
    });
    const requests = await destination.waitFor(2, 3500);
    expect(requests.map((r) => header(r, 'upstash-schedule-id'))).toEqual([scheduleId, scheduleId]);
    await setup.client.schedules.delete(scheduleId);
  });

  it('applies the schedule delay to the messages it creates', async () => {
    const { scheduleId } = await setup.client.schedules.create({
      destination: destination.url,
      cron: '* * * * *',
      delay: 1,
    });
    const due = (await setup.client.schedules.get(scheduleId)).nextScheduleTime ?? 0;
    const fired = Date.now();
    const [messageId] = setup.service.tick(due);
    const message = await setup.client.messages.get(messageId ?? '');
    expect(message.scheduleId).toBe(scheduleId);
    expect(message.notBefore).toBeGreaterThanOrEqual(fired + 1000);
    const [request] = await destination.waitFor(1, 3000);
    expect(request?.at).toBeGreaterThanOrEqual(fired + 1000);
  });

  it('rejects an invalid cron with QStash’s text', async () => {
    const create = (cron: string) =>
      setup.client.schedules.create({ destination: destination.url, cron });
    await expect(create('')).rejects.toMatchObject({
      status: 400,
      message: '{"error":"Invalid cron expression empty spec string"}',
    });
    await expect(create('* * *')).rejects.toMatchObject({
      status: 400,
      message: '{"error":"Invalid cron expression expected exactly 5 fields, found 3: [* * *]"}',
    });
    await expect(create('61 * * * *')).rejects.toMatchObject({
      message: '{"error":"Invalid cron expression end of range (61) above maximum (59): 61"}',
    });
    await expect(create('x * * * *')).rejects.toMatchObject({
      message:
        '{"error":"Invalid cron expression failed to parse int from x: strconv.Atoi: parsing \\"x\\": invalid syntax"}',
    });
    await expect(create('CRON_TZ=Mars/Olympus 0 * * * *')).rejects.toMatchObject({
      message:
        '{"error":"Invalid cron expression provided bad location Mars/Olympus: unknown time zone Mars/Olympus"}',
    });
    expect(await setup.client.schedules.list()).toEqual([]);
  });

  it('accepts crontab names and descriptors as robfig/cron does', async () => {
    const named = await setup.client.schedules.create({
      destination: destination.url,
      cron: '0 9 * JAN-dec mon-FRI',
    });
    const next = (await setup.client.schedules.get(named.scheduleId)).nextScheduleTime ?? 0;
    expect(wallClock(next, 'UTC')).toBe('09:00');
    expect([1, 2, 3, 4, 5]).toContain(new Date(next).getUTCDay());
    const hourly = await setup.client.schedules.create({
      destination: destination.url,
      cron: '@hourly',
    });
    const hourlyNext = (await setup.client.schedules.get(hourly.scheduleId)).nextScheduleTime ?? 0;
    expect(hourlyNext % (60 * MINUTE)).toBe(0);
  });
});
