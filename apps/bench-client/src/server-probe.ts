// Resource figures of the server process under test, read from Linux /proc (`-serverPid`).
import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat times (`getconf CLK_TCK`; 100 on Linux x86-64 and arm64). */
const CLK_TCK = 100;

export interface ServerSample {
  /** Resident set size in KiB (`VmRSS`). */
  rssKiB: number;
  /** User + system CPU time of all threads, in seconds. */
  cpuSec: number;
}

/** Parses `VmRSS:` (KiB) out of /proc/<pid>/status text. */
export function parseRssKiB(statusText: string): number {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(statusText);
  if (m === null) throw new Error('no VmRSS in status');
  return Number(m[1]);
}

/** Parses utime + stime (seconds) out of /proc/<pid>/stat text (fields 14 and 15). */
export function parseCpuSec(statText: string): number {
  // The command name (field 2) may contain spaces and parentheses: split after the last ')'.
  const rest = statText.slice(statText.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state), so field n is rest[n - 3].
  return (Number(rest[11]) + Number(rest[12])) / CLK_TCK;
}

/** Reads RSS and CPU time of a process; undefined when it cannot be read (process gone, not Linux). */
export function sampleServer(pid: number | undefined): ServerSample | undefined {
  if (pid === undefined) return undefined;
  try {
    return {
      rssKiB: parseRssKiB(readFileSync(`/proc/${pid}/status`, 'utf8')),
      cpuSec: parseCpuSec(readFileSync(`/proc/${pid}/stat`, 'utf8')),
    };
  } catch {
    return undefined;
  }
}
