import { parseArgs } from 'node:util';
import { ConfigError, createLogger, processStop, type LogLevel } from '@talk-signaling/runtime';
import { readProxyConfigFile } from './config/proxy-config';
import { ProxyApp } from './proxy-app';
import { EtcdTokenStore } from './tokens/etcd-token-store';
import { StaticTokenStore } from './tokens/static-token-store';
import { PROXY_VERSION } from './version';

/** How long a stop may take before the process exits anyway. */
const SHUTDOWN_DEADLINE_MS = 10_000;

/** Flags (`--config`, `--version`, as upstream) → config → app → signals. */
async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({ options: { config: { type: 'string', default: 'proxy.conf' }, version: { type: 'boolean', default: false } } }));
  } catch (err) {
    console.error((err as Error).message);
    process.exit(2);
  }
  if (values.version) {
    console.log(`talk-signaling-proxy ${PROXY_VERSION}`);
    return;
  }
  const log = createLogger({ name: 'mcu-proxy', level: (process.env['LOG_LEVEL'] as LogLevel | undefined) ?? 'info' });
  const configPath = values.config;
  let app: ProxyApp;
  try {
    app = await ProxyApp.create(readProxyConfigFile(configPath), { log, processMetrics: true });
  } catch (err) {
    const issues = err instanceof ConfigError ? err.issues : [(err as Error).message];
    for (const issue of issues) console.error(`config: ${issue}`);
    log.error({ config: configPath, issues }, 'invalid configuration');
    log.flush();
    process.exit(1);
  }
  if (app.config.app.debug) log.warn('[app] debug = true: debug handlers (pprof) are not supported, ignoring');
  if (app.config.http.listen.length === 0) log.warn('[http] listen is empty: the proxy does not listen anywhere');
  const addresses = await app.start();
  log.info({ version: PROXY_VERSION, addresses, janus: app.config.mcu.url }, 'mcu proxy started');

  const stop = processStop({ log, stop: () => app.stop(), deadlineMs: SHUTDOWN_DEADLINE_MS });
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  // Graceful: no new publishers, exit once the last publisher/subscriber is gone.
  process.on('SIGUSR1', () => {
    log.info('SIGUSR1: graceful shutdown scheduled');
    void app.proxy.scheduleShutdown().then(() => stop('SIGUSR1'));
  });
  // Reload the token keys and bandwidth targets from the config file.
  process.on('SIGHUP', () => {
    try {
      const config = readProxyConfigFile(configPath);
      if (app.tokens instanceof StaticTokenStore) app.tokens.reload(config.tokens);
      else if (app.tokens instanceof EtcdTokenStore) app.tokens.reload(config.tokenKeyFormats);
      app.proxy.setBandwidthLimits(config.bandwidth.incoming, config.bandwidth.outgoing);
      log.info('SIGHUP: configuration reloaded');
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'SIGHUP: could not reload the configuration, keeping the old one');
    }
  });
}

void main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
