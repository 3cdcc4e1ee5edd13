import { readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './podman';

const DASHBOARD = path.join(REPO_ROOT, 'deploy/grafana/talk-signaling.json');
const README = path.join(REPO_ROOT, 'deploy/grafana/README.md');

interface Target {
  expr: string;
}
interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { uid: string };
  targets?: Target[];
  panels?: Panel[];
}
export interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: Array<{ name: string }> };
}

export function readDashboard(): Dashboard {
  return JSON.parse(readFileSync(DASHBOARD, 'utf8')) as Dashboard;
}

/** Every panel, rows' nested panels included. */
export function allPanels(dashboard: Dashboard): Panel[] {
  return dashboard.panels.flatMap((panel) => [panel, ...(panel.panels ?? [])]);
}

/** Every query of the dashboard. */
export function dashboardExprs(dashboard: Dashboard): string[] {
  return allPanels(dashboard).flatMap((panel) => (panel.targets ?? []).map((target) => target.expr));
}

/**
 * A query with Grafana's variables replaced, so Prometheus can run it: the instance filter
 * matches everything, the rate window is one minute.
 */
export function runnableExpr(expr: string): string {
  return expr.replaceAll('$instance', '.*').replaceAll('$__rate_interval', '1m');
}

/** Metric names a query refers to (ours: signaling_*, process_*, nodejs_*). */
export function metricNamesOf(expr: string): string[] {
  return [...expr.matchAll(/\b(?:signaling|process|nodejs)_[a-z0-9_]+\b/g)].map((match) => match[0]);
}

/** The metrics deploy/grafana/README.md lists as "not exposed yet", with what they arrive with. */
export function pendingMetrics(): Map<string, string> {
  const text = readFileSync(README, 'utf8');
  const section = text.slice(text.indexOf('<!-- pending-metrics:start -->'), text.indexOf('<!-- pending-metrics:end -->'));
  const pending = new Map<string, string>();
  for (const match of section.matchAll(/^\| `([a-z0-9_]+)` \| (.+?) \|$/gm)) pending.set(match[1]!, match[2]!);
  return pending;
}

/** Metric family names of a Prometheus text exposition (`# TYPE <name> <type>` lines). */
export function exposedFamilies(exposition: string): Set<string> {
  return new Set([...exposition.matchAll(/^# TYPE (\S+) \S+$/gm)].map((match) => match[1]!));
}
