// Child process of the TLS test: the CA comes from NODE_EXTRA_CA_CERTS, which Node reads only
// at start, as a deployment would. Usage: node tls-client.ts <rediss-or-valkeys-url> [wait ms]
// Prints {"state": "...", "roundTrip": true|false} and exits.
import { pino } from 'pino';
import { RedisStore } from '../redis.ts';
import { testEntry } from './entries.ts';

const url = process.argv[2] ?? '';
const store = new RedisStore({
  url,
  prefix: 'tls:',
  memoryCacheBytes: 0,
  logger: pino({ level: 'silent' }),
});
const deadline = Date.now() + Number(process.argv[3] ?? 10_000);
while (store.state() !== 'ok' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
const entry = testEntry(256);
await store.set('k', entry, '/tls.png');
const back = await store.get('k');
process.stdout.write(
  `${JSON.stringify({ state: store.state(), roundTrip: back?.buffer.equals(entry.buffer) === true })}\n`,
);
await store.close();
