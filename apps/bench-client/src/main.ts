// bench-client: load generator for Nextcloud Talk signaling servers (ours and the Go one).
// Composition only: flags → auth backend → scenario → summary line → exit.
import { existsSync, readFileSync } from 'node:fs';
import { AuthBackend } from './auth-backend';
import { DEV_BACKEND_URL, UsageError, parseArgs, readBackendSecret, usage, type BenchOptions } from './cli';
import { runScenario } from './scenarios/run-scenario';

/** Extra time on top of the run's own bounds before the watchdog ends the process. */
const WATCHDOG_SLACK_MS = 30_000;

interface AuthSetup {
  url: string;
  backend?: AuthBackend;
}

/**
 * Decides which auth URL the clients send:
 * - `-backend URL`: that Nextcloud (no local backend);
 * - `-secret S` or a config with `[backend] secret`: the local auth backend (upstream's way;
 *   the server needs `[backend] allowall = true`, `allowhttp = true` and the same secret);
 * - otherwise (no `-config` given and no `server.conf` here): the development Nextcloud of
 *   `npm start` (open mode, accepts any user), so the default run needs no set-up.
 */
export async function setupAuth(opts: BenchOptions, log: (s: string) => void): Promise<AuthSetup> {
  if (opts.backend !== undefined) return { url: opts.backend };
  let secret = opts.secret;
  if (secret === undefined) {
    if (existsSync(opts.config)) {
      secret = readBackendSecret(readFileSync(opts.config, 'utf8'));
      if (secret === undefined) throw new UsageError(`no [backend] secret in ${opts.config}`);
    } else if (opts.configExplicit) {
      throw new UsageError(`cannot read config ${opts.config}`);
    } else {
      log(`No ${opts.config} here: using the development Nextcloud of \`npm start\` (${DEV_BACKEND_URL}) for hello and joins`);
      return { url: DEV_BACKEND_URL };
    }
  }
  const backend = await AuthBackend.start(secret);
  log(`Auth backend listening on ${backend.url}`);
  return { url: backend.url, backend };
}

async function main(argv: string[]): Promise<number> {
  let opts: BenchOptions;
  try {
    opts = parseArgs(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`${err.message}\n${usage()}`);
      return 2;
    }
    throw err;
  }
  if (opts.help) {
    console.log(usage());
    return 0;
  }
  const watchdog = setTimeout(
    () => {
      console.error('bench-client: run exceeded its bounds; exiting');
      process.exit(3);
    },
    3 * opts.timeoutMs + opts.durationMs + WATCHDOG_SLACK_MS,
  );
  watchdog.unref();
  const log = (s: string): void => console.log(s);
  let auth: AuthSetup;
  try {
    auth = await setupAuth(opts, log);
  } catch (err) {
    console.error(`bench-client: ${(err as Error).message}`);
    return 2;
  }
  process.once('SIGINT', () => {
    console.error('bench-client: interrupted');
    process.exit(130);
  });
  log(`Running scenario ${opts.scenario} with ${opts.maxClients} clients against ${opts.addrs.join(', ')}`);
  try {
    const summary = await runScenario(opts, auth.url, { line: log, progress: process.stderr });
    if (auth.backend !== undefined) {
      summary.authRequests = auth.backend.stats.requests;
      if (auth.backend.stats.badChecksums > 0) {
        log(`WARNING: ${auth.backend.stats.badChecksums} backend requests had a wrong checksum: does the server use the same [backend] secret?`);
      }
    }
    console.log(JSON.stringify(summary));
    if (summary.soak?.failed) {
      console.error(`bench-client: soak failed: ${summary.soak.failures.join('; ')}`);
      return 1;
    }
    return summary.connected >= 2 ? 0 : 1;
  } finally {
    // Servers tell the backend about the sessions that left after the clients are gone.
    if (auth.backend !== undefined) await new Promise((r) => setTimeout(r, 300));
    await auth.backend?.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error('bench-client failed:', err);
    process.exit(1);
  },
);
