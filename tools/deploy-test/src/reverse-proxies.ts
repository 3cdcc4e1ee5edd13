import { readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import path from 'node:path';
import { REPO_ROOT } from './podman';
import { startHostProcess, type HostProcess } from './processes';

/**
 * The reverse-proxy sites shipped in deploy/reverse-proxy (the ones docs/deployment.md
 * section 7 prints), run unprivileged with Debian's nginx, Caddy and Apache: each wrapped in a
 * main config of its own (pid, logs, temp files in the test's folder), on a free loopback port,
 * in front of a signaling server on another.
 */
export type ProxyKind = 'nginx' | 'caddy' | 'apache';

export const PROXY_SITE_FILES: Record<ProxyKind, string> = {
  nginx: 'deploy/reverse-proxy/nginx.conf',
  caddy: 'deploy/reverse-proxy/Caddyfile',
  apache: 'deploy/reverse-proxy/apache.conf',
};

export interface ProxySiteOptions {
  /** Loopback port the proxy listens on (TLS). */
  port: number;
  /** Port of the signaling server on 127.0.0.1. */
  upstreamPort: number;
  /** nginx only: the ports of further nodes on this host (the site's commented `server` line). */
  moreUpstreamPorts?: number[];
  certFile: string;
  keyFile: string;
}

export interface RunningProxy {
  kind: ProxyKind;
  /** `https://127.0.0.1:port/` */
  url: string;
  process: HostProcess;
}

/** Replaces every `from` in `text`; fails when there is none, so the shipped file keeps the shape the tests rely on. */
function replaceAll(text: string, from: string, to: string, file: string): string {
  if (!text.includes(from)) throw new Error(`${file} no longer contains ${JSON.stringify(from)}; update the test's rendering`);
  return text.split(from).join(to);
}

/** The shipped site with the example's host name, ports and certificate paths replaced by the test's. */
export function renderSite(kind: ProxyKind, opts: ProxySiteOptions): string {
  const file = PROXY_SITE_FILES[kind];
  let text = readFileSync(path.join(REPO_ROOT, file), 'utf8');
  const swap = (from: string, to: string): void => {
    text = replaceAll(text, from, to, file);
  };
  swap('127.0.0.1:8080', `127.0.0.1:${opts.upstreamPort}`);
  swap('/etc/ssl/talk-signaling/fullchain.pem', opts.certFile);
  swap('/etc/ssl/talk-signaling/privkey.pem', opts.keyFile);
  const more = opts.moreUpstreamPorts ?? [];
  if (more.length > 0 && kind !== 'nginx') throw new Error(`several upstream nodes are only rendered for nginx, not ${kind}`);
  if (kind === 'nginx') {
    swap('# server 127.0.0.1:8081;', more.map((p) => `server 127.0.0.1:${p};`).join('\n    '));
    swap('listen 443 ssl;', `listen 127.0.0.1:${opts.port} ssl;`);
    swap('server_name signaling.example.com;', 'server_name 127.0.0.1;');
  } else if (kind === 'caddy') {
    swap('signaling.example.com {', `127.0.0.1:${opts.port} {`);
  } else {
    swap('<VirtualHost *:443>', `<VirtualHost 127.0.0.1:${opts.port}>`);
    swap('ServerName signaling.example.com', 'ServerName 127.0.0.1');
  }
  return text;
}

/** Main config around the site: everything a packaged service would have, in the test's folder. */
function mainConfig(kind: ProxyKind, dir: string, port: number): string {
  const site = path.join(dir, 'site.conf');
  if (kind === 'nginx') {
    // master_process off: one process, no worker user switch, gone with one SIGKILL.
    return [
      'daemon off;',
      'master_process off;',
      `pid ${dir}/nginx.pid;`,
      'error_log stderr notice;',
      'events { worker_connections 256; }',
      'http {',
      '    access_log off;',
      ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `    ${t}_temp_path ${dir}/${t};`),
      `    include ${site};`,
      '}',
      '',
    ].join('\n');
  }
  if (kind === 'caddy') {
    return [
      '{',
      '\tadmin off',
      '\tdefault_bind 127.0.0.1',
      '\tauto_https disable_redirects',
      `\tstorage file_system ${dir}/data`,
      '}',
      '',
      `import ${site}`,
      '',
    ].join('\n');
  }
  const modules = ['mpm_event', 'authz_core', 'headers', 'proxy', 'proxy_http', 'proxy_wstunnel', 'ssl'];
  return [
    `ServerRoot ${dir}`,
    'ServerName 127.0.0.1',
    `DefaultRuntimeDir ${dir}`,
    `PidFile ${dir}/apache2.pid`,
    // Start-up errors go to stderr anyway; /dev/stderr cannot be opened on a socket.
    `ErrorLog ${dir}/error.log`,
    'LogLevel warn',
    // Apache refuses to serve as root; as any other user these are ignored.
    ...(process.getuid?.() === 0 ? ['User www-data', 'Group www-data'] : []),
    ...modules.map((m) => `LoadModule ${m}_module /usr/lib/apache2/modules/mod_${m}.so`),
    `Listen 127.0.0.1:${port}`,
    `Include ${site}`,
    '',
  ].join('\n');
}

const COMMANDS: Record<ProxyKind, (dir: string) => { command: string; args: string[] }> = {
  nginx: (dir) => ({ command: 'nginx', args: ['-p', `${dir}/`, '-c', `${dir}/main.conf`, '-e', 'stderr'] }),
  caddy: (dir) => ({ command: 'caddy', args: ['run', '--config', `${dir}/main.conf`, '--adapter', 'caddyfile'] }),
  apache: (dir) => ({ command: 'apache2', args: ['-X', '-d', dir, '-f', `${dir}/main.conf`] }),
};

/**
 * Starts `kind` with the shipped site in front of the signaling server on `upstreamPort`;
 * ready once `/api/v1/welcome` answers 200 through it over TLS (trusting `ca`).
 */
export async function startReverseProxy(
  kind: ProxyKind,
  site: { upstreamPort: number; moreUpstreamPorts?: number[]; certPem: string; keyPem: string; ca: string },
): Promise<RunningProxy> {
  const proc = await startHostProcess(
    kind,
    '/usr/bin/env',
    (dir, port) => {
      const certFile = path.join(dir, 'fullchain.pem');
      const keyFile = path.join(dir, 'privkey.pem');
      writeFileSync(certFile, site.certPem);
      writeFileSync(keyFile, site.keyPem, { mode: 0o600 });
      writeFileSync(path.join(dir, 'site.conf'), renderSite(kind, { port, upstreamPort: site.upstreamPort, moreUpstreamPorts: site.moreUpstreamPorts, certFile, keyFile }));
      writeFileSync(path.join(dir, 'main.conf'), mainConfig(kind, dir, port));
      const { command: cmd, args } = COMMANDS[kind](dir);
      // (`env` execs the proxy in place.) Caddy keeps its state under $HOME / XDG folders: the test's folder.
      return [`HOME=${dir}`, `XDG_DATA_HOME=${dir}/data`, `XDG_CONFIG_HOME=${dir}/config`, cmd, ...args];
    },
    async (baseUrl) => {
      const url = `https://127.0.0.1:${new URL(baseUrl).port}/api/v1/welcome`;
      return (await httpsRequest(url, { ca: site.ca }).catch(() => ({ status: 0 }))).status === 200;
    },
  );
  return { kind, url: `https://127.0.0.1:${proc.port}/`, process: proc };
}

export interface HttpsRequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** CA to trust. */
  ca: string;
  /** Local address to connect from. */
  localAddress?: string;
}

/** One HTTPS request (node:https: global fetch takes no CA or local address); status and body. */
export function httpsRequest(url: string, opts: HttpsRequestOptions): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: opts.method ?? 'GET',
        headers: opts.headers,
        ca: opts.ca,
        agent: false,
        timeout: 10_000,
        ...(opts.localAddress === undefined ? {} : { localAddress: opts.localAddress }),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${url}: timed out`)));
    req.on('error', reject);
    req.end(opts.body);
  });
}
