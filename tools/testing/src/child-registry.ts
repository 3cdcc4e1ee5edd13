import type { ChildProcess } from 'node:child_process';

/**
 * Every child process the harness started and that has not exited yet. A test file that times
 * out or crashes must not leave servers behind, so the survivors are SIGKILLed when this
 * process exits (nats.js `nst` does the same).
 */
const children = new Set<ChildProcess>();
let hooked = false;

/** Tracks `child` until it exits. */
export function trackChild(child: ChildProcess): void {
  children.add(child);
  child.once('exit', () => children.delete(child));
  if (!hooked) {
    hooked = true;
    process.on('exit', killAllChildren);
  }
}

/** SIGKILLs every tracked child (synchronous, safe inside an `exit` hook). */
export function killAllChildren(): void {
  for (const child of children) {
    try {
      child.kill('SIGKILL');
    } catch {
      // Already gone; nothing else can be done while exiting.
    }
  }
}

/** Pids of the children that are still running (for leak checks in tests). */
export function runningChildPids(): number[] {
  return [...children].map((c) => c.pid).filter((pid): pid is number => pid !== undefined);
}
