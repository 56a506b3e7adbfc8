// The reference gateway: the real @platformatic/gateway from npm, standalone (no Watt runtime),
// on a watt.json `gateway` block. Used by the parity test in-process and by `npm run bench` as
// a child process: node test/support/platformatic-gateway.ts <config.json>
// prints {"url": …} on stdout once it listens, and stops on SIGTERM.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { create, type PlatformaticGatewayConfig } from '@platformatic/gateway';
import type { GatewayConfigInput } from '../../api/gateway-config.ts';

/** A running Platformatic gateway. */
export interface PlatformaticGateway {
  url: string;
  close(): Promise<void>;
}

/** Starts @platformatic/gateway on 127.0.0.1:`port` (0: any) with `gateway` as its block. */
export async function startPlatformaticGateway(
  gateway: GatewayConfigInput['gateway'],
  options: { port?: number; logLevel?: 'silent' | 'warn' } = {},
): Promise<PlatformaticGateway> {
  const server = { hostname: '127.0.0.1', port: options.port ?? 0 };
  const capability = await create(
    process.cwd(),
    {
      $schema: 'https://schemas.platformatic.dev/@platformatic/gateway/3.0.0.json',
      server: { ...server, logger: { level: options.logLevel ?? 'silent' } },
      // Our schema is Platformatic's block, minus the keys that load code.
      gateway: gateway as PlatformaticGatewayConfig['gateway'],
    },
    // Without serverConfig the capability listens on 0.0.0.0 whatever `server` says.
    { isEntrypoint: true, serverConfig: server },
  );
  await capability.init();
  const url = await capability.start({ listen: true });
  if (typeof url !== 'string')
    throw new Error('@platformatic/gateway did not say where it listens');
  return { url, close: () => capability.stop() };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const file = process.argv[2];
  if (file === undefined) throw new Error('usage: platformatic-gateway.ts <config.json>');
  const config = JSON.parse(await readFile(file, 'utf8')) as {
    gateway: GatewayConfigInput['gateway'];
    port?: number;
  };
  const running = await startPlatformaticGateway(config.gateway, {
    port: config.port ?? 0,
    logLevel: 'warn',
  });
  process.stdout.write(`${JSON.stringify({ url: running.url })}\n`);
  process.on('SIGTERM', () => {
    running.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
