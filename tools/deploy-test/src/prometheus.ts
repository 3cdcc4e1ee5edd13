import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { startHostProcess, statusOf, type HostProcess } from './processes';

export interface PrometheusServer extends HostProcess {
  /** Metric names Prometheus holds samples for (`/api/v1/label/__name__/values`). */
  metricNames(): Promise<string[]>;
  /** Instant query (`/api/v1/query`); the result vector. */
  query(expr: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>>;
}

/**
 * Debian's `prometheus` on a free loopback port, with its own storage folder and a generated
 * prometheus.yml that scrapes each job's targets every second.
 */
export async function startPrometheus(jobs: Record<string, string[]>): Promise<PrometheusServer> {
  const server = await startHostProcess(
    'prometheus',
    'prometheus',
    (dir, port) => {
      const config = path.join(dir, 'prometheus.yml');
      const scrapeConfigs = Object.entries(jobs).map(([job, targets]) => [
        `  - job_name: ${JSON.stringify(job)}`,
        '    metrics_path: /metrics',
        '    static_configs:',
        `      - targets: ${JSON.stringify(targets)}`,
      ].join('\n'));
      writeFileSync(config, ['global:', '  scrape_interval: 1s', '  scrape_timeout: 1s', 'scrape_configs:', ...scrapeConfigs, ''].join('\n'));
      return [
        `--config.file=${config}`,
        `--storage.tsdb.path=${path.join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ];
    },
    async (baseUrl) => (await statusOf(`${baseUrl}-/ready`)) === 200,
  );
  const api = async <T>(pathAndQuery: string): Promise<T> => {
    const res = await fetch(`${server.baseUrl}api/v1/${pathAndQuery}`);
    const body = (await res.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`prometheus ${pathAndQuery}: ${body.error ?? res.status}`);
    return body.data;
  };
  return {
    ...server,
    metricNames: () => api<string[]>('label/__name__/values'),
    query: async (expr) =>
      (await api<{ result: Array<{ metric: Record<string, string>; value: [number, string] }> }>(`query?query=${encodeURIComponent(expr)}`)).result,
  };
}
