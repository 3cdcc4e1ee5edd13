/**
 * `proxy.conf` (upstream `proxy.conf.in`, fact sheet 7.2): same sections, keys and defaults,
 * read with the shared goconf-compatible INI reader. `$(VAR)` is resolved in `[http] listen`,
 * `[mcu] url` and every `[tokens]` option, as upstream does.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import {
  boolOption,
  ConfigError,
  enumOption,
  getIniString,
  intOption,
  ipListOption,
  listOption,
  parseIni,
  stringOption,
  substituteEnv,
  type ParsedIni,
} from '@talk-signaling/runtime';

export const DEFAULT_MAX_STREAM_BITRATE = 1048576;
export const DEFAULT_MAX_SCREEN_BITRATE = 2097152;
export const DEFAULT_MCU_TIMEOUT_SECONDS = 10;
export const DEFAULT_TOKEN_KEY_FORMAT = '/%s';

const HttpSection = z.object({
  /** Space-separated `ip:port` list; none means no listener. */
  listen: listOption('space'),
  readtimeout: intOption(15, 'positive'),
  writetimeout: intOption(15, 'positive'),
});

const AppSection = z.object({
  debug: boolOption(false),
  trustedproxies: ipListOption(),
  /** ISO 3166 alpha-2, upper-cased; invalid is a start-up error (upstream). */
  country: stringOption().transform((c, ctx) => {
    const upper = c.toUpperCase();
    if (upper !== '' && !/^[A-Z]{2}$/.test(upper)) {
      ctx.addIssue({ code: 'custom', message: `invalid country "${c}" (expected an ISO 3166 two-letter code)` });
      return z.NEVER;
    }
    return upper;
  }),
  tokentype: enumOption(['static', 'etcd'] as const, 'static', 'token type'),
  hostname: stringOption(),
  token_id: stringOption(),
  token_key: stringOption(),
  /** Documented here by upstream's sample; the code reads `[backend] skipverify`. Either works. */
  skipverify: boolOption(false),
});

const BandwidthSection = z.object({
  /** MBit/s; 0 = unlimited. */
  incoming: intOption(0, 'nonNegative'),
  outgoing: intOption(0, 'nonNegative'),
});

const McuSection = z.object({
  type: enumOption(['janus'] as const, 'janus', 'MCU type'),
  url: stringOption(),
  maxstreambitrate: intOption(DEFAULT_MAX_STREAM_BITRATE, 'positive'),
  maxscreenbitrate: intOption(DEFAULT_MAX_SCREEN_BITRATE, 'positive'),
  timeout: intOption(DEFAULT_MCU_TIMEOUT_SECONDS, 'positive'),
  /** IPs / networks client candidates may use (wins over `blockedcandidates`). */
  allowedcandidates: ipListOption(),
  /** IPs / networks dropped from client candidates. */
  blockedcandidates: ipListOption(),
});

const StatsSection = z.object({ allowed_ips: ipListOption() });

const EtcdSection = z.object({
  endpoints: listOption('comma'),
  discoverysrv: stringOption(),
  discoveryservice: stringOption(),
  clientkey: stringOption(),
  clientcert: stringOption(),
  cacert: stringOption(),
});

/** The parsed `proxy.conf`. */
export interface ProxyConfig {
  http: z.infer<typeof HttpSection>;
  app: z.infer<typeof AppSection> & { skipverify: boolean };
  bandwidth: z.infer<typeof BandwidthSection>;
  mcu: z.infer<typeof McuSection>;
  stats: z.infer<typeof StatsSection>;
  etcd: z.infer<typeof EtcdSection>;
  /** etcd options written in `[tokens]` (upstream's legacy place for them). */
  tokensEtcd: z.infer<typeof EtcdSection>;
  /** `[tokens]` for `tokentype = static`: token id → public key file (without `keyformat`). */
  tokens: Map<string, string>;
  /** `[tokens] keyformat` for `tokentype = etcd`. */
  tokenKeyFormats: string[];
}

const SECTIONS = { http: HttpSection, app: AppSection, bandwidth: BandwidthSection, mcu: McuSection, stats: StatsSection, etcd: EtcdSection } as const;
/** Options whose `$(VAR)` references are resolved (upstream `GetStringOptionWithEnv`). */
const ENV_OPTIONS: Record<string, readonly string[]> = { http: ['listen'], mcu: ['url'] };

/** Parses `proxy.conf` text; throws {@link ConfigError} with every problem found. */
export function parseProxyConfig(text: string, env: NodeJS.ProcessEnv = process.env): ProxyConfig {
  const ini = parseIni(text);
  const issues = [...ini.errors];
  const read = (section: string, schema: z.ZodObject): Record<string, unknown> => {
    const raw: Record<string, string | undefined> = {};
    for (const key of Object.keys(schema.shape)) {
      const found = getIniString(ini, section, key);
      if (!found.found) continue;
      raw[key] = ENV_OPTIONS[section]?.includes(key) ? substituteEnv(found.value, env).value : found.value;
    }
    const result = schema.safeParse(raw);
    if (result.success) return result.data as Record<string, unknown>;
    for (const issue of result.error.issues) issues.push(`[${section}] ${issue.path.join('.')}: ${issue.message}`);
    return {};
  };
  const parsed: Record<string, Record<string, unknown>> = {};
  for (const [name, schema] of Object.entries(SECTIONS)) parsed[name] = read(name, schema);
  const { tokens, keyFormats } = readTokens(ini, env);
  const tokensEtcd = read('tokens', EtcdSection) as ProxyConfig['etcd'];
  const raw = (section: string, key: string): string => {
    const found = getIniString(ini, section, key);
    return found.found ? found.value : '';
  };
  if (raw('mcu', 'url') === '') issues.push('[mcu] url: required (the Janus WebSocket URL, e.g. ws://localhost:8188/)');
  if (raw('app', 'token_id') !== '' && raw('app', 'token_key') === '') issues.push('[app] token_key: required when token_id is set');
  if (issues.length > 0) throw new ConfigError(issues);
  const app = parsed['app'] as ProxyConfig['app'];
  const backendSkip = getIniString(ini, 'backend', 'skipverify');
  if (backendSkip.found && /^(1|t|true|y|yes|on)$/i.test(backendSkip.value)) app.skipverify = true;
  return {
    http: parsed['http'] as ProxyConfig['http'],
    app,
    bandwidth: parsed['bandwidth'] as ProxyConfig['bandwidth'],
    mcu: parsed['mcu'] as ProxyConfig['mcu'],
    stats: parsed['stats'] as ProxyConfig['stats'],
    etcd: parsed['etcd'] as ProxyConfig['etcd'],
    tokensEtcd,
    tokens,
    tokenKeyFormats: keyFormats,
  };
}

/** Reads and parses a `proxy.conf` file. */
export function readProxyConfigFile(path: string, env: NodeJS.ProcessEnv = process.env): ProxyConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError([`cannot read ${path}: ${(err as Error).message}`], { cause: err });
  }
  return parseProxyConfig(text, env);
}

/** `[tokens]` keys that are etcd options (legacy place), not token ids. */
const ETCD_KEYS = new Set(Object.keys(EtcdSection.shape));

function readTokens(ini: ParsedIni, env: NodeJS.ProcessEnv): { tokens: Map<string, string>; keyFormats: string[] } {
  const tokens = new Map<string, string>();
  let keyFormats = [DEFAULT_TOKEN_KEY_FORMAT];
  const section = ini.sections.get('tokens');
  for (const key of section?.options.keys() ?? []) {
    const found = getIniString(ini, 'tokens', key);
    if (!found.found || found.value === '') continue;
    const value = substituteEnv(found.value, env).value;
    if (ETCD_KEYS.has(key)) continue;
    if (key === 'keyformat') {
      const formats = value.split(',').map((f) => f.trim()).filter((f) => f !== '');
      if (formats.length > 0) keyFormats = formats;
    } else {
      tokens.set(key, value);
    }
  }
  return { tokens, keyFormats };
}
