import { createLogger, processStop, type LogLevel } from '@talk-signaling/runtime';
import { parseCliFlags } from './cli-flags';
import { ConfigError, placeholderSecretProblems, readServerConfigFile } from './config';
import { formatReport } from './selfcheck/self-check';
import { SignalingServer } from './signaling-server';
import { SERVER_VERSION } from './version';

/** How long a graceful shutdown may take before the process exits anyway. */
const SHUTDOWN_DEADLINE_MS = 10_000;

/** Composition root: flags -> config -> server -> signals. Nothing else lives here. */
async function main(): Promise<void> {
  let flags;
  try {
    flags = parseCliFlags(process.argv.slice(2));
  } catch (err) {
    console.error((err as Error).message);
    process.exit(2);
  }
  if (flags.version) {
    console.log(`talk-signaling ${SERVER_VERSION}`);
    return;
  }
  const log = createLogger({ name: 'signaling', level: (process.env['LOG_LEVEL'] as LogLevel | undefined) ?? 'info' });

  let loaded;
  try {
    loaded = readServerConfigFile(flags.config, process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      log.error({ config: flags.config, issues: err.issues }, 'invalid configuration');
      for (const issue of err.issues) console.error(`config: ${issue}`);
      log.flush();
      process.exit(1);
    }
    throw err;
  }
  for (const warning of loaded.warnings) log.warn({ config: flags.config }, warning);
  const placeholders = placeholderSecretProblems(loaded.config);
  if (placeholders.length > 0) {
    for (const p of placeholders) log.error({ config: flags.config }, p);
    console.error('refusing to start with the sample configuration\'s placeholder secrets; see the messages above');
    log.flush();
    process.exit(1);
  }
  const config = loaded.config;

  // Every input path catches its own failures (one bad message gets one error); a promise
  // rejection that still escapes has no one waiting for it, so it is logged, never fatal.
  process.on('unhandledRejection', (err: unknown) => log.error({ err }, 'unhandled promise rejection'));

  if (flags.check) {
    // Checks that need no running server (Nextcloud backends, certificates); nothing is bound.
    const checker = new SignalingServer(config, { log: createLogger({ name: 'signaling', level: 'error' }) });
    const report = await checker.selfCheck.run({ offlineOnly: true });
    console.log(formatReport(report));
    console.log('(NATS, etcd, gRPC peers, Janus/proxies and GeoIP: GET /api/v1/selfcheck of the running server)');
    await checker.stop();
    log.flush();
    process.exit(report.ok ? 0 : 1);
  }

  const server = new SignalingServer(config, { log, processMetrics: true });
  const addresses = await server.start();
  log.info(
    { version: SERVER_VERSION, addresses, bus: config.nats.url.join(' '), mcu: config.mcu.type || 'none', backends: server.backends.size },
    'signaling server started',
  );

  // Log lines are written asynchronously: processStop flushes them before the process goes.
  const stop = processStop({ log, stop: () => server.stop(), deadlineMs: SHUTDOWN_DEADLINE_MS });
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  // Upstream: SIGUSR1 stops taking new clients and exits once the last client session is gone.
  process.on('SIGUSR1', () => {
    log.info('SIGUSR1: draining, will exit when no client sessions remain');
    server.http.startDraining();
    const check = setInterval(() => {
      if ([...server.sessions.all()].every((s) => s.clientType === 'internal')) {
        clearInterval(check);
        stop('SIGUSR1');
      }
    }, 1_000);
  });
  // Upstream reloads the static backends on SIGHUP; a broken file is reported and ignored.
  process.on('SIGHUP', () => {
    try {
      const reloaded = readServerConfigFile(flags.config, process.env);
      for (const warning of reloaded.warnings) log.warn({ config: flags.config }, warning);
      // The same guard as at start-up: an edit must not bring a sample secret into service.
      const problems = placeholderSecretProblems(reloaded.config);
      if (problems.length > 0) {
        log.error({ config: flags.config, issues: problems }, 'SIGHUP: configuration not reloaded (placeholder secrets)');
        return;
      }
      server.reload(reloaded.config);
    } catch (err) {
      const issues = err instanceof ConfigError ? err.issues : [(err as Error).message];
      log.error({ config: flags.config, issues }, 'SIGHUP: configuration not reloaded');
    }
  });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
