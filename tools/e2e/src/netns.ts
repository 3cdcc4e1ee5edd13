import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** The private address the runner gives the namespace's bridge (Janus' host candidate). */
export const NETNS_ADDRESS = '10.123.45.1';
/** Prefix length of {@link NETNS_ADDRESS}. */
export const NETNS_PREFIX = 24;
/** Name of the bridge interface inside the namespace. */
export const NETNS_BRIDGE = 'br0';

/** `net:[<inode>]` of a process' network namespace, or undefined if it is gone. */
export function netnsOf(pid: number | 'self'): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/net`);
  } catch {
    return undefined;
  }
}

/** A process as seen in /proc. */
export interface ProcessInfo {
  pid: number;
  /** `/proc/<pid>/comm` (15 characters at most, e.g. `janus`, `chromium`, `node`). */
  comm: string;
}

/** Whether `pid` still exists and is not a zombie. */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 3 (after the parenthesised comm) is the state; Z = zombie, X = dead.
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** Every live process in network namespace `netns` (a `net:[…]` link), except `exclude`. */
export function processesInNetns(netns: string, exclude: number[] = []): ProcessInfo[] {
  const out: ProcessInfo[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    if (exclude.includes(pid) || netnsOf(pid) !== netns || !isAlive(pid)) continue;
    let comm = '';
    try {
      comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    } catch {
      continue;
    }
    out.push({ pid, comm });
  }
  return out;
}
