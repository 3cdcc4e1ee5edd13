/**
 * Loads `server.conf`: INI (goconf dialect) → `$(VAR)` where upstream resolves it → one zod
 * schema per section → cross-section rules → every problem in one {@link ConfigError} → frozen.
 * No other component reads the file or `process.env`.
 */
import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { ConfigError, deepFreeze, DEFAULT_SECTION, getIniString, isIpOrCidr, parseIni, splitEntries, type ParsedIni } from '@talk-signaling/runtime';
import { substituteEnv, usesEnvSubstitution } from './env-substitution';
import { AppSection } from './sections/app-section';
import { BackendEntrySection, normalizeBackendUrl } from './sections/backend-entry-section';
import { BackendSection } from './sections/backend-section';
import { ClientsSection } from './sections/clients-section';
import { ETCD_MCU_FALLBACK_OPTIONS, EtcdSection } from './sections/etcd-section';
import { FederationSection } from './sections/federation-section';
import { GeoipSection, parseContinentOverrides, parseGeoipOverrides, type FreeformOption } from './sections/geoip-section';
import { GrpcSection } from './sections/grpc-section';
import { HttpSection, HttpsSection } from './sections/http-section';
import { McuSection } from './sections/mcu-section';
import { DEPRECATED_NATS_LOOPBACK_URL, NATS_LOOPBACK_URL, NatsSection } from './sections/nats-section';
import { RECOMMENDED_HASH_KEY_BYTES, SessionsSection } from './sections/sessions-section';
import { StatsSection } from './sections/stats-section';
import { TurnSection } from './sections/turn-section';
import type { BackendEntryConfig, LoadedServerConfig, ServerConfig } from './server-config-types';

export { ConfigError } from '@talk-signaling/runtime';
export { placeholderSecretProblems } from './placeholder-secrets';
export type { BackendEntryConfig, LoadedServerConfig, ServerConfig } from './server-config-types';

/** The fixed sections of `server.conf` and their schemas. */
export const SERVER_CONFIG_SECTIONS = Object.freeze({
  http: HttpSection,
  https: HttpsSection,
  app: AppSection,
  sessions: SessionsSection,
  clients: ClientsSection,
  backend: BackendSection,
  nats: NatsSection,
  mcu: McuSection,
  turn: TurnSection,
  geoip: GeoipSection,
  stats: StatsSection,
  etcd: EtcdSection,
  grpc: GrpcSection,
  federation: FederationSection,
});

type SectionName = keyof typeof SERVER_CONFIG_SECTIONS;

/** Sections whose keys are data, not option names. */
const FREEFORM_SECTIONS = ['geoip-overrides', 'continent-overrides'] as const;

/**
 * Options newer upstream versions read that this server does not implement: accepted with a
 * specific warning instead of "unknown option".
 */
const UNSUPPORTED_UPSTREAM_OPTIONS: Readonly<Record<string, readonly string[]>> = Object.freeze({
  backend: ['maxstreambitrate', 'maxscreenbitrate'],
  mcu: ['allowedcandidates', 'blockedcandidates'],
});

/** Collects problems while loading. */
class Problems {
  readonly errors: string[] = [];
  readonly warnings: string[] = [];
}

/** A section's values after unfolding and substitution, with their lines. */
interface SectionValues {
  values: Record<string, string>;
  lines: Record<string, number>;
}

function where(section: string, key: string, line: number | undefined): string {
  return line ? `[${section}] ${key} (line ${line})` : `[${section}] ${key}`;
}

/** Reads one section the way upstream's getters see it. */
function readSection(ini: ParsedIni, name: string, env: NodeJS.ProcessEnv, backendSections: ReadonlySet<string>, problems: Problems): SectionValues {
  const values: Record<string, string> = {};
  const lines: Record<string, number> = {};
  const section = ini.sections.get(name);
  if (!section) return { values, lines };
  for (const key of section.options.keys()) {
    const lookup = getIniString(ini, name, key);
    if (!lookup.found) {
      if (lookup.reason) problems.warnings.push(`${where(name, key, lookup.line)}: ${lookup.reason}`);
      continue;
    }
    let value = lookup.value;
    if (usesEnvSubstitution(name, key, backendSections)) {
      const substituted = substituteEnv(value, env);
      value = substituted.value;
      for (const variable of substituted.missing) {
        problems.warnings.push(`${where(name, key, lookup.line)}: environment variable ${variable} is not set; "$(${variable})" was replaced by "${variable}" (as upstream)`);
      }
    }
    values[key] = value;
    lines[key] = lookup.line;
  }
  return { values, lines };
}

/** Runs a section schema, turning zod issues into located messages. */
function parseSection<S extends z.ZodObject>(schema: S, name: string, read: SectionValues, problems: Problems, extraKnown: readonly string[] = []): z.output<S> | undefined {
  const known = new Set([...Object.keys(schema.shape), ...extraKnown]);
  for (const key of Object.keys(read.values)) {
    if (known.has(key)) continue;
    if (UNSUPPORTED_UPSTREAM_OPTIONS[name]?.includes(key)) {
      problems.warnings.push(`${where(name, key, read.lines[key])}: option of newer upstream versions, not supported by talk-signaling; ignored`);
    } else {
      problems.warnings.push(`${where(name, key, read.lines[key])}: unknown option, ignored`);
    }
  }
  const input: Record<string, string> = {};
  for (const key of Object.keys(schema.shape)) {
    const value = read.values[key];
    if (value !== undefined) input[key] = value;
  }
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  for (const issue of result.error.issues) {
    const key = typeof issue.path[0] === 'string' ? issue.path[0] : undefined;
    problems.errors.push(key ? `${where(name, key, read.lines[key])}: ${issue.message}` : `[${name}]: ${issue.message}`);
  }
  return undefined;
}

function freeformOptions(read: SectionValues): FreeformOption[] {
  return Object.entries(read.values).map(([key, value]) => ({ key, value, line: read.lines[key] ?? 0 }));
}

/** Builds the per-backend entries (upstream `getConfiguredHosts`). */
function loadBackends(
  ini: ParsedIni,
  ids: readonly string[],
  commonSecret: string,
  env: NodeJS.ProcessEnv,
  backendSections: ReadonlySet<string>,
  problems: Problems,
): Record<string, BackendEntryConfig> {
  const backends = Object.create(null) as Record<string, BackendEntryConfig>;
  const seenUrls = new Map<string, string>();
  for (const id of ids) {
    const sectionName = id.toLowerCase();
    const read = readSection(ini, sectionName, env, backendSections, problems);
    const entry = parseSection(BackendEntrySection, sectionName, read, problems);
    if (!entry) continue;
    const rawUrls = entry.urls.length > 0 ? entry.urls : entry.url !== '' ? [entry.url] : [];
    if (rawUrls.length === 0) {
      problems.warnings.push(
        ini.sections.has(sectionName)
          ? `[${sectionName}]: backend "${id}" has no url/urls, skipping it`
          : `[backend] backends: backend "${id}" has no section [${sectionName}], skipping it`,
      );
      continue;
    }
    const secret = entry.secret !== '' ? entry.secret : commonSecret;
    if (secret === '') {
      problems.warnings.push(`[${sectionName}]: backend "${id}" has no secret and [backend] secret is empty, skipping it`);
      continue;
    }
    const urls: string[] = [];
    for (const raw of rawUrls) {
      const normalized = normalizeBackendUrl(raw);
      const key = entry.urls.length > 0 ? 'urls' : 'url';
      if (!normalized.ok) {
        problems.warnings.push(`${where(sectionName, key, read.lines[key])}: ${normalized.reason}, skipping it`);
        continue;
      }
      const previous = seenUrls.get(normalized.url);
      if (previous !== undefined) {
        problems.warnings.push(`${where(sectionName, key, read.lines[key])}: ${normalized.url} is already used by backend "${previous}", skipping it`);
        continue;
      }
      seenUrls.set(normalized.url, id);
      urls.push(normalized.url);
    }
    if (urls.length === 0) {
      problems.warnings.push(`[${sectionName}]: backend "${id}" has no usable url, skipping it`);
      continue;
    }
    backends[id] = {
      id,
      urls,
      secret,
      sessionlimit: entry.sessionlimit,
      maxstreambitrate: entry.maxstreambitrate,
      maxscreenbitrate: entry.maxscreenbitrate,
    };
  }
  return backends;
}

/**
 * Parses and validates `server.conf` text. `env` supplies `$(VAR)` references.
 * @throws {ConfigError} with every problem found.
 */
export function loadServerConfig(text: string, env: NodeJS.ProcessEnv): LoadedServerConfig {
  const ini = parseIni(text);
  const problems = new Problems();
  problems.errors.push(...ini.errors);
  problems.warnings.push(...ini.warnings);

  // `[backend] backends` names further sections; upstream reads it without $(VAR) resolution.
  const backendIdsLookup = getIniString(ini, 'backend', 'backends');
  const backendIds = [...new Set(splitEntries(backendIdsLookup.found ? backendIdsLookup.value : '', 'comma'))];
  const backendSections = new Set(backendIds.map((id) => id.toLowerCase()));

  const reads = {} as Record<SectionName, SectionValues>;
  const parsed = {} as { [K in SectionName]?: z.output<(typeof SERVER_CONFIG_SECTIONS)[K]> };
  for (const name of Object.keys(SERVER_CONFIG_SECTIONS) as SectionName[]) {
    reads[name] = readSection(ini, name, env, backendSections, problems);
    const extra = name === 'mcu' ? ETCD_MCU_FALLBACK_OPTIONS : [];
    (parsed as Record<string, unknown>)[name] = parseSection(SERVER_CONFIG_SECTIONS[name], name, reads[name], problems, extra);
  }

  const freeform = {
    'geoip-overrides': readSection(ini, 'geoip-overrides', env, backendSections, problems),
    'continent-overrides': readSection(ini, 'continent-overrides', env, backendSections, problems),
  };
  const geoipOverrides = parseGeoipOverrides(freeformOptions(freeform['geoip-overrides']), isIpOrCidr);
  const continentOverrides = parseContinentOverrides(freeformOptions(freeform['continent-overrides']));
  for (const result of [geoipOverrides, continentOverrides]) {
    problems.errors.push(...result.errors);
    problems.warnings.push(...result.warnings);
  }

  for (const section of ini.sections.values()) {
    const name = section.name;
    if (name === DEFAULT_SECTION || name in SERVER_CONFIG_SECTIONS || backendSections.has(name)) continue;
    if ((FREEFORM_SECTIONS as readonly string[]).includes(name)) continue;
    if (name === 'tokens') {
      problems.warnings.push(`[tokens] (line ${section.line}): section is read by mcu-proxy, not by the signaling server; ignored`);
    } else {
      problems.warnings.push(`[${name}] (line ${section.line}): unknown section, ignored`);
    }
  }

  const p = parsed;
  if (!p.http || !p.https || !p.app || !p.sessions || !p.clients || !p.backend || !p.nats || !p.mcu || !p.turn || !p.geoip || !p.stats || !p.etcd || !p.grpc || !p.federation) {
    // Per-section errors are already collected; still run what can run to report more at once.
    if (p.backend) loadBackends(ini, backendIds, p.backend.secret, env, backendSections, problems);
    throw new ConfigError(problems.errors);
  }

  const etcd = { ...p.etcd };
  for (const key of ETCD_MCU_FALLBACK_OPTIONS) {
    const own = etcd[key as keyof typeof etcd];
    const fallback = reads.mcu.values[key];
    if ((Array.isArray(own) ? own.length === 0 : own === '') && fallback) {
      problems.warnings.push(`${where('mcu', key, reads.mcu.lines[key])}: configuring etcd in section [mcu] is deprecated, use [etcd] instead`);
      (etcd as Record<string, unknown>)[key] = key === 'endpoints' ? splitEntries(fallback, 'comma') : fallback;
    }
  }
  const etcdConfigured = etcd.endpoints.length > 0 || etcd.discoverysrv !== '';

  const config: ServerConfig = {
    http: p.http,
    https: p.https,
    app: p.app,
    sessions: p.sessions,
    clients: p.clients,
    backend: { ...p.backend, backends: backendIds },
    backends: loadBackends(ini, backendIds, p.backend.secret, env, backendSections, problems),
    nats: p.nats,
    mcu: p.mcu,
    turn: p.turn,
    geoip: p.geoip,
    geoipOverrides: geoipOverrides.value,
    continentOverrides: continentOverrides.value,
    stats: p.stats,
    etcd,
    grpc: p.grpc,
    federation: p.federation,
  };
  checkCrossSection(config, reads, etcdConfigured, problems);

  if (problems.errors.length > 0) throw new ConfigError(problems.errors);
  return { config: deepFreeze(config), warnings: problems.warnings };
}

/** Rules spanning several options (each mirrors an upstream start-up check). */
function checkCrossSection(config: ServerConfig, reads: Record<SectionName, SectionValues>, etcdConfigured: boolean, problems: Problems): void {
  const { errors, warnings } = problems;
  const line = (section: SectionName, key: string) => reads[section].lines[key];

  if (config.https.listen.length > 0) {
    for (const key of ['certificate', 'key'] as const) {
      if (config.https[key] === '') errors.push(`[https] ${key}: required because [https] listen is set (line ${line('https', 'listen')})`);
    }
  }

  const hashKeyBytes = Buffer.byteLength(config.sessions.hashkey, 'utf8');
  if (!RECOMMENDED_HASH_KEY_BYTES.includes(hashKeyBytes)) {
    warnings.push(`${where('sessions', 'hashkey', line('sessions', 'hashkey'))}: should be 32 or 64 bytes but is ${hashKeyBytes} bytes`);
  }
  if (config.clients.internalsecret === '') {
    warnings.push('[clients] internalsecret: not set, internal clients (SIP bridge, recording) will be rejected');
  }

  const backend = config.backend;
  if (backend.backendtype === 'etcd') {
    if (backend.backendprefix === '') errors.push('[backend] backendprefix: required for backendtype = etcd');
    if (!etcdConfigured) errors.push('[etcd] endpoints: required (or discoverysrv) for [backend] backendtype = etcd');
    if (backend.backends.length > 0) warnings.push(`${where('backend', 'backends', line('backend', 'backends'))}: ignored with backendtype = etcd`);
  } else if (backend.allowall) {
    warnings.push(`${where('backend', 'allowall', line('backend', 'allowall'))}: every backend host is allowed; only use this for development or benchmarks`);
    if (backend.backends.length > 0) warnings.push(`${where('backend', 'backends', line('backend', 'backends'))}: ignored because allowall is enabled`);
  } else if (backend.backends.length > 0) {
    if (backend.allowed.length > 0) warnings.push(`${where('backend', 'allowed', line('backend', 'allowed'))}: ignored because backends is set`);
    if (Object.keys(config.backends).length === 0) warnings.push('[backend] backends: none of the listed backends is usable, client connections will not be possible');
  } else if (backend.allowed.length > 0) {
    warnings.push(`${where('backend', 'allowed', line('backend', 'allowed'))}: deprecated, migrate to "backends" with one section per backend`);
    if ((reads.backend.values.allowed ?? '').includes('/')) warnings.push(`${where('backend', 'allowed', line('backend', 'allowed'))}: paths were removed from the host names`);
  } else {
    warnings.push('[backend]: no backends configured, client connections will not be possible');
  }

  const nats = config.nats;
  nats.url = nats.url.map((url) => {
    if (url !== DEPRECATED_NATS_LOOPBACK_URL) return url;
    warnings.push(`${where('nats', 'url', line('nats', 'url'))}: "${DEPRECATED_NATS_LOOPBACK_URL}" is deprecated, use "${NATS_LOOPBACK_URL}"`);
    return NATS_LOOPBACK_URL;
  });
  if (nats.url.includes(NATS_LOOPBACK_URL) && nats.url.length > 1) {
    errors.push(`${where('nats', 'url', line('nats', 'url'))}: "${NATS_LOOPBACK_URL}" cannot be combined with other URLs`);
  }

  const mcu = config.mcu;
  const mcuUrlAt = where('mcu', 'url', line('mcu', 'url'));
  if (mcu.type === '' && mcu.url.length > 0) {
    warnings.push(`${mcuUrlAt}: set without [mcu] type; using type "janus" (old-style configuration)`);
    mcu.type = 'janus';
  } else if (mcu.type === 'janus' && mcu.url.length === 0) {
    warnings.push('[mcu] type: "janus" without [mcu] url; MCU disabled (old-style configuration)');
    mcu.type = '';
  }
  if (mcu.type === 'janus' && mcu.url.length > 1) errors.push(`${mcuUrlAt}: type "janus" takes exactly one URL, got ${mcu.url.length}`);
  if (mcu.type !== '') {
    for (const url of mcu.url) {
      if (!URL.canParse(url)) errors.push(`${mcuUrlAt}: "${url}" is not a valid URL`);
    }
  }
  if (mcu.type === 'proxy') {
    if (mcu.token_id === '') errors.push('[mcu] token_id: required for type = proxy');
    if (mcu.token_key === '') errors.push('[mcu] token_key: required for type = proxy');
    if (mcu.urltype === 'static' && mcu.url.length === 0) errors.push('[mcu] url: at least one proxy URL is required for type = proxy with urltype = static');
    if (mcu.urltype === 'etcd' && !etcdConfigured) errors.push('[etcd] endpoints: required (or discoverysrv) for [mcu] urltype = etcd');
  }

  if (config.turn.servers.length > 0) {
    for (const key of ['apikey', 'secret'] as const) {
      if (config.turn[key] === '') errors.push(`[turn] ${key}: required because [turn] servers is set (line ${line('turn', 'servers')})`);
    }
  }

  if (config.grpc.targettype === 'etcd') {
    if (config.grpc.targetprefix === '') errors.push('[grpc] targetprefix: required for targettype = etcd');
    if (!etcdConfigured) errors.push('[etcd] endpoints: required (or discoverysrv) for [grpc] targettype = etcd');
  }
}

/**
 * Reads and loads a `server.conf` file.
 * @throws {ConfigError} for an unreadable file and for every problem in its content.
 */
export function readServerConfigFile(path: string, env: NodeJS.ProcessEnv): LoadedServerConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConfigError([`cannot read configuration file ${path}: ${reason}`], { cause: error });
  }
  try {
    return loadServerConfig(text, env);
  } catch (error) {
    if (error instanceof ConfigError) throw new ConfigError(error.issues.map((issue) => `${path}: ${issue}`), { cause: error });
    throw error;
  }
}
