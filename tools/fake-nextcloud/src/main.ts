// Standalone fake Nextcloud for local development:
//   node dist/tools/fake-nextcloud/main.js --listen 127.0.0.1:8081 --secret dev-backend-secret --open
// Prints one line with the address, stops cleanly on SIGTERM/SIGINT.
import { parseArgs } from 'node:util';
import { startFakeNextcloud } from './fake-nextcloud';

const USAGE = 'usage: fake-nextcloud --secret <secret> [--listen <host:port>] [--open]';
const DEFAULT_LISTEN = '127.0.0.1:8081';

/** Splits `host:port` (IPv6 as `[::1]:8081`). */
function parseListen(value: string): { host: string; port: number } {
  const match = /^\[?([^\]]*?)\]?:(\d+)$/.exec(value);
  if (match === null) throw new Error(`--listen: expected host:port, got '${value}'`);
  return { host: match[1] || '127.0.0.1', port: Number(match[2]) };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      listen: { type: 'string', default: DEFAULT_LISTEN },
      secret: { type: 'string' },
      open: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if (values.secret === undefined || values.secret === '') throw new Error(`--secret is required\n${USAGE}`);
  const { host, port } = parseListen(values.listen);
  const nc = await startFakeNextcloud({ secret: values.secret, host, port, open: values.open });
  console.log(`fake-nextcloud listening on ${nc.url} (backend url ${nc.backendUrl}${values.open ? ', open mode' : ''})`);

  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    nc.close().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error('fake-nextcloud: close failed', err);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err: unknown) => {
  console.error(`fake-nextcloud: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(2);
});
