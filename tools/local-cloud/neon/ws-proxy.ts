import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { backend, frontend, MessageReader, readCString } from './wire.ts';

export type PgAddress = { host: string; port: number };

/**
 * Serves one client the way Neon's proxy does over a WebSocket: it answers the startup itself,
 * asks for the password in cleartext (so the driver's default `pipelineConnect: "password"`,
 * which sends the password without waiting, works), then opens the backend connection with the
 * client's user, database and password — handling trust, cleartext, MD5 or SCRAM-SHA-256 there —
 * and from the backend's AuthenticationOk on, relays bytes untouched in both directions.
 */
export function proxyPostgres(client: Duplex, target: PgAddress): void {
  const reader = new MessageReader();
  let phase: 'startup' | 'password' | 'connecting' | 'relay' | 'closed' = 'startup';
  let params: Record<string, string> = {};
  let upstream: Socket | undefined;

  // Either side ending ends the other gracefully (a WebSocket close frame, a TCP FIN), as a
  // client that sent Terminate expects; errors tear both down.
  const close = () => {
    if (phase === 'closed') return;
    phase = 'closed';
    upstream?.end();
    client.end();
  };
  const fail = (code: string, message: string) => {
    if (phase === 'closed') return;
    client.end(backend.error({ severity: 'FATAL', code, message }));
    phase = 'closed';
    upstream?.destroy();
  };

  client.on('error', () => {
    phase = 'closed';
    upstream?.destroy();
  });
  client.on('close', close);
  client.on('data', (chunk: Buffer) => {
    try {
      onClientData(chunk);
    } catch {
      fail('08P01', 'invalid frontend message');
    }
  });

  function onClientData(chunk: Buffer) {
    if (phase === 'relay') {
      upstream?.write(chunk);
      return;
    }
    reader.push(chunk);
    while (phase === 'startup' || phase === 'password') {
      if (phase === 'startup') {
        const packet = reader.nextStartup();
        if (packet === 'incomplete') return;
        if (packet === 'invalid') return fail('08P01', 'invalid length of startup packet');
        if (packet.kind === 'ssl' || packet.kind === 'gssenc') {
          // TLS is the WebSocket's job (wss:// in production); inside it, Postgres SSL is off.
          client.write('N');
          continue;
        }
        if (packet.kind === 'cancel') {
          const cancel = connect(target.port, target.host, () => cancel.end(packet.raw));
          cancel.on('error', () => {});
          client.end();
          phase = 'closed';
          return;
        }
        if (packet.kind === 'unsupported') {
          return fail('0A000', 'unsupported frontend protocol');
        }
        if (packet.kind !== 'startup') continue;
        params = packet.params;
        if (!params.user)
          return fail('28000', 'no PostgreSQL user name specified in startup packet');
        client.write(backend.authenticationCleartextPassword());
        phase = 'password';
        continue;
      }
      const message = reader.next(10_000);
      if (message === 'incomplete') return;
      if (message === 'invalid' || message.type !== 'p') {
        return fail('08P01', 'expected password response');
      }
      const [password] = readCString(message.body, 0);
      phase = 'connecting';
      openUpstream(password);
    }
  }

  function openUpstream(password: string) {
    const socket = connect(target.port, target.host);
    upstream = socket;
    socket.setNoDelay(true);
    const incoming = new MessageReader();
    let scram: ScramClient | undefined;
    socket.on('error', (error) => {
      if (phase === 'connecting') {
        fail('08006', `could not connect to the database backend: ${error.message}`);
      } else close();
    });
    socket.on('close', close);
    socket.on('connect', () => {
      // `options` carries Neon's endpoint routing in production; a plain Postgres would reject it.
      const { options, ...startup } = params;
      const kept: Record<string, string> =
        options && !/\bendpoint=/.test(options) ? { options } : {};
      socket.write(frontend.startup({ ...startup, ...kept }));
    });
    socket.on('data', (chunk: Buffer) => {
      if (phase === 'relay') {
        client.write(chunk);
        return;
      }
      incoming.push(chunk);
      for (;;) {
        const message = incoming.next();
        if (message === 'incomplete') return;
        if (message === 'invalid') return fail('08P01', 'invalid message from the backend');
        if (message.type === 'E') {
          client.end(message.raw);
          phase = 'closed';
          socket.destroy();
          return;
        }
        if (message.type !== 'R') continue;
        try {
          const code = message.body.readInt32BE(0);
          if (code === 0) {
            phase = 'relay';
            client.write(Buffer.concat([message.raw, incoming.drain()]));
            const pending = reader.drain();
            if (pending.length > 0) socket.write(pending);
            return;
          }
          if (code === 3) socket.write(frontend.password(password));
          else if (code === 5) {
            socket.write(
              frontend.password(md5Password(params.user!, password, message.body.subarray(4, 8))),
            );
          } else if (code === 10) {
            const mechanisms = message.body.subarray(4).toString('utf8').split('\0');
            if (!mechanisms.includes('SCRAM-SHA-256'))
              throw new Error('no supported SASL mechanism');
            scram = new ScramClient(password);
            socket.write(frontend.saslInitial('SCRAM-SHA-256', scram.clientFirst()));
          } else if (code === 11 && scram) {
            socket.write(
              frontend.saslResponse(scram.clientFinal(message.body.subarray(4).toString())),
            );
          } else if (code === 12 && scram) {
            scram.verifyServerFinal(message.body.subarray(4).toString());
          } else {
            throw new Error(`unsupported authentication request ${code}`);
          }
        } catch (error) {
          return fail('28000', `authentication with the database backend failed: ${String(error)}`);
        }
      }
    });
  }
}

function md5Password(user: string, password: string, salt: Buffer): string {
  const inner = createHash('md5')
    .update(password + user)
    .digest('hex');
  return `md5${createHash('md5')
    .update(Buffer.concat([Buffer.from(inner), salt]))
    .digest('hex')}`;
}

/** SCRAM-SHA-256 (RFC 5802/7677) without channel binding, as libpq does over plain TCP. */
class ScramClient {
  private readonly nonce = randomBytes(18).toString('base64');
  private readonly firstBare = `n=*,r=${this.nonce}`;
  private serverSignature = '';
  private readonly password: string;

  constructor(password: string) {
    this.password = password;
  }

  clientFirst(): string {
    return `n,,${this.firstBare}`;
  }

  clientFinal(serverFirst: string): string {
    const attrs = Object.fromEntries(serverFirst.split(',').map((kv) => [kv[0], kv.slice(2)]));
    const { r: nonce, s: salt, i: iterations } = attrs;
    if (!nonce?.startsWith(this.nonce) || !salt || !iterations) {
      throw new Error('invalid SCRAM server-first message');
    }
    const salted = pbkdf2Sync(
      this.password.normalize('NFKC'),
      Buffer.from(salt, 'base64'),
      Number(iterations),
      32,
      'sha256',
    );
    const clientKey = hmac(salted, 'Client Key');
    const storedKey = createHash('sha256').update(clientKey).digest();
    const withoutProof = `c=biws,r=${nonce}`;
    const authMessage = `${this.firstBare},${serverFirst},${withoutProof}`;
    const signature = hmac(storedKey, authMessage);
    const proof = Buffer.from(clientKey.map((b, i) => b ^ signature[i]!));
    this.serverSignature = hmac(hmac(salted, 'Server Key'), authMessage).toString('base64');
    return `${withoutProof},p=${proof.toString('base64')}`;
  }

  verifyServerFinal(serverFinal: string): void {
    if (
      serverFinal
        .split(',')
        .find((kv) => kv.startsWith('v='))
        ?.slice(2) !== this.serverSignature
    ) {
      throw new Error('SCRAM server signature mismatch');
    }
  }
}

function hmac(key: Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}
