import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyDelivery } from '../shared/webhook-sources/signature.ts';

/**
 * The sample webhook receiver of `npm run dev`: the sample outbound endpoint points here. Each
 * request is verified as a Standard Webhooks receiver would (signature by `secret`, timestamp
 * within 5 minutes) and printed in one line; it answers `204`, or `401` to what does not verify.
 */
export async function startSampleReceiver(
  port: number,
  secret: string,
  print: (line: string) => void = (line) => console.log(line),
): Promise<{ url: string; server: Server }> {
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', async () => {
      const body = Buffer.concat(chunks);
      const headers = new Headers();
      for (const [name, value] of Object.entries(request.headers)) {
        if (typeof value === 'string') headers.set(name, value);
      }
      const verified = await verifyDelivery({
        kind: 'standard',
        secrets: [secret],
        headers,
        body,
        now: Date.now(),
      });
      let event = { type: '?', id: '?' };
      try {
        event = JSON.parse(body.toString('utf8')) as typeof event;
      } catch {}
      print(
        `dev: webhook ${event.type} ${event.id} received by the sample receiver ` +
          `(${verified.ok ? 'signature verified' : `refused: ${verified.reason}`})`,
      );
      response.writeHead(verified.ok ? 204 : 401);
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const { port: bound } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${bound}/sample-receiver`, server };
}
