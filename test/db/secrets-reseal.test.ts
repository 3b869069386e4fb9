import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { organizations, webhookEndpoints, webhookSources } from '../../shared/db/schema/index.ts';
import { newId } from '../../shared/ids.ts';
import {
  generateSecretsKey,
  openSecret,
  SecretUnreadable,
  sealSecret,
} from '../../shared/secret-box.ts';
import { resealSecrets } from '../../tools/secrets/reseal.ts';
import { backends, openDatabase, type TestDatabase } from './harness.ts';

describe.each(backends)('npm run secrets:reseal (%s)', (backend) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await openDatabase(backend);
  });
  afterAll(() => database?.close());

  it('seals again with the current key what the previous one sealed, so it can be deleted', async () => {
    const previous = generateSecretsKey('old');
    const current = generateSecretsKey('new');
    const orgId = newId('organization');
    await database.db
      .insert(organizations)
      .values({ id: orgId, name: 'Reseal', slug: `reseal-${orgId.slice(-6)}` });
    const ids = [newId('webhookSource'), newId('webhookSource'), newId('webhookSource')];
    const row = async (id: string, key: string, withPrevious: boolean) => ({
      id,
      orgId,
      name: id,
      kind: 'standard' as const,
      secretCiphertext: await sealSecret({ current: key }, `secret-${id}`, `webhook_sources:${id}`),
      previousSecretCiphertext: withPrevious
        ? await sealSecret({ current: key }, `old-${id}`, `webhook_sources:${id}:previous`)
        : null,
      previousSecretExpiresAt: withPrevious ? new Date(Date.now() + 3_600_000) : null,
    });
    // Two sealed by the previous key (one with a previous secret of its own), one already current.
    await database.db
      .insert(webhookSources)
      .values([
        await row(ids[0]!, previous, true),
        await row(ids[1]!, previous, false),
        await row(ids[2]!, current, false),
      ]);

    // An outbound endpoint's secret, sealed by the previous key, in its own context.
    const endpointId = newId('webhookEndpoint');
    await database.db.insert(webhookEndpoints).values({
      id: endpointId,
      orgId,
      url: 'https://hooks.example.com/reseal',
      eventTypes: ['*'],
      secretCiphertext: await sealSecret(
        { current: previous },
        'endpoint-secret',
        `webhook_endpoints:${endpointId}`,
      ),
    });

    expect(await resealSecrets(database.db, { current, previous })).toEqual({
      checked: 5,
      resealed: 4,
    });
    expect(await resealSecrets(database.db, { current, previous })).toEqual({
      checked: 5,
      resealed: 0,
    });
    const [endpoint] = await database.db
      .select()
      .from(webhookEndpoints)
      .where(eq(webhookEndpoints.id, endpointId));
    expect(
      await openSecret({ current }, endpoint!.secretCiphertext, `webhook_endpoints:${endpointId}`),
    ).toEqual({ plaintext: 'endpoint-secret', stale: false });
    // The previous key is no longer needed to open any of them.
    const rows = await database.db.select().from(webhookSources);
    for (const source of rows.filter((r) => ids.includes(r.id))) {
      const opened = await openSecret(
        { current },
        source.secretCiphertext!,
        `webhook_sources:${source.id}`,
      );
      expect(opened).toEqual({ plaintext: `secret-${source.id}`, stale: false });
      if (source.previousSecretCiphertext)
        expect(
          (
            await openSecret(
              { current },
              source.previousSecretCiphertext,
              `webhook_sources:${source.id}:previous`,
            )
          ).plaintext,
        ).toBe(`old-${source.id}`);
    }
  });

  it('stops, naming the key, on a value neither key opens', async () => {
    await expect(
      resealSecrets(database.db, { current: generateSecretsKey('other') }),
    ).rejects.toThrow(SecretUnreadable);
  });
});
