import { describe, expect, it } from 'vitest';
import { createLogger, logLevel, MAX_ERROR_TEXT_CHARS } from '../../../shared/logger.ts';

function logged(fields: Record<string, unknown>) {
  const lines: string[] = [];
  createLogger({ sink: (line) => lines.push(line) }).warn('failed', fields);
  expect(lines).toHaveLength(1);
  return JSON.parse(lines[0]!) as Record<
    string,
    { message: string; stack: string; cause?: { message: string } }
  >;
}

describe('logger', () => {
  it('takes its level from a LOG_LEVEL setting, info when the setting names none', () => {
    expect(['debug', 'info', 'warn', 'error'].map(logLevel)).toEqual([
      'debug',
      'info',
      'warn',
      'error',
    ]);
    expect([undefined, '', 'verbose', 'WARN', 'toString', 3].map(logLevel)).toEqual(
      Array(6).fill('info'),
    );
  });

  it('logs an error as name, message, stack and cause', () => {
    const error = new TypeError('bad thing', { cause: new Error('root cause') });
    const { error: line } = logged({ error });
    expect(line).toMatchObject({
      name: 'TypeError',
      message: 'bad thing',
      cause: { name: 'Error', message: 'root cause' },
    });
    expect(line!.stack).toContain('bad thing');
  });

  it('clips an error message that quotes a whole request, and its cause', () => {
    const command = JSON.stringify([['set', 'key', 'x'.repeat(3_000_000)]]);
    const error = new Error(`ERR max request size exceeded, command was: ${command}`, {
      cause: new Error(command),
    });
    const { error: line } = logged({ error });
    expect(line!.message.length).toBeLessThan(MAX_ERROR_TEXT_CHARS + 100);
    expect(line!.message).toMatch(/^ERR max request size exceeded, command was: \[\["set"/);
    expect(line!.message).toMatch(/… \(\d+ more characters\)$/);
    expect(line!.stack.length).toBeLessThan(MAX_ERROR_TEXT_CHARS + 100);
    expect(line!.cause!.message.length).toBeLessThan(MAX_ERROR_TEXT_CHARS + 100);
  });
});
