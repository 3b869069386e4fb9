import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { writeDevVars } from '../../tools/local-cloud/cli.ts';

describe('writeDevVars', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('writes values that dotenv reads back unchanged, JSON keys included', async () => {
    dir = await mkdtemp(join(tmpdir(), 'sift-dev-vars-'));
    const path = join(dir, '.dev.vars');
    const values = {
      PLAIN: 'http://127.0.0.1:4444',
      JSON_KEY: JSON.stringify({ kty: 'EC', crv: 'P-256', x: 'a+b/c', kid: 'dev' }),
      SPACES: 'a value with spaces',
    };
    writeDevVars(path, values);
    expect(parseEnv(await readFile(path, 'utf8'))).toEqual(values);
  });

  it('keeps existing values when asked to', async () => {
    dir = await mkdtemp(join(tmpdir(), 'sift-dev-vars-'));
    const path = join(dir, '.dev.vars');
    writeDevVars(path, { KEY: 'first' });
    writeDevVars(path, { KEY: 'second', OTHER: 'x' }, { keepExisting: true });
    expect(parseEnv(await readFile(path, 'utf8'))).toEqual({ KEY: 'first', OTHER: 'x' });
  });
});
