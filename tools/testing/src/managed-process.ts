import { spawn, type ChildProcess } from 'node:child_process';
import { rm } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { trackChild } from './child-registry';

/** A server process started by the harness. */
export interface ManagedProcess {
  /** Client URL (`nats://127.0.0.1:P`, `http://127.0.0.1:P`, `ws://127.0.0.1:P`). */
  readonly url: string;
  /** Client port; kept across `restart()`. */
  readonly port: number;
  /** The running process' pid (undefined once stopped). */
  readonly pid: number | undefined;
  /** The running process' recent output (stdout and stderr), for failure reports. */
  readonly output: string;
  /** SIGKILLs the process, waits for it to exit and removes its temp dir. Idempotent. */
  stop(): Promise<void>;
  /** SIGKILLs the process and starts a new one on the same port(s); resolves when it is ready. */
  restart(): Promise<void>;
  /** Sends `signal` (default SIGKILL) without waiting; a later `restart()` brings it back. */
  kill(signal?: NodeJS.Signals): void;
  [Symbol.asyncDispose](): Promise<void>;
}

/** How far a start attempt got. */
export class ProcessStartError extends Error {
  override readonly name = 'ProcessStartError';
  constructor(
    message: string,
    /** The last output of the process (stdout and stderr interleaved). */
    readonly output: string,
    options?: ErrorOptions,
  ) {
    super(output === '' ? message : `${message}\n--- last output ---\n${output}`, options);
  }
}

/** Keep this much output per process for error messages (bytes). */
const OUTPUT_TAIL = 8 * 1024;
/** Readiness poll interval (ms). */
const READY_POLL_MS = 25;

/** A spawned child with its exit promise and output tail. */
export class Spawned {
  readonly child: ChildProcess;
  /** Resolves when the process has exited (never rejects). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  #output = '';
  #spawnError: Error | undefined;

  constructor(readonly name: string, command: string, args: string[], env?: NodeJS.ProcessEnv) {
    this.child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: env ?? process.env });
    const collect = (chunk: Buffer): void => {
      this.#output = (this.#output + chunk.toString()).slice(-OUTPUT_TAIL);
    };
    this.child.stdout?.on('data', collect);
    this.child.stderr?.on('data', collect);
    this.exited = new Promise((resolve) => {
      this.child.once('error', (err) => {
        this.#spawnError = err;
        resolve({ code: null, signal: null });
      });
      this.child.once('exit', (code, signal) => resolve({ code, signal }));
    });
    if (this.child.pid !== undefined) trackChild(this.child);
    // Unref so a forgotten server does not keep jest alive; the exit hook kills it.
    this.child.unref();
    (this.child.stdout as Socket | null)?.unref();
    (this.child.stderr as Socket | null)?.unref();
  }

  /** Output collected so far (tail). */
  get output(): string {
    return this.#output;
  }

  /** Whether the process has exited or failed to spawn. */
  get hasExited(): boolean {
    return this.#spawnError !== undefined || this.child.exitCode !== null || this.child.signalCode !== null;
  }

  /**
   * Waits until `check` returns a truthy value, racing the process's exit: a process that dies
   * first (or whose binary is missing) rejects with a {@link ProcessStartError}.
   */
  async ready<T>(check: () => T | undefined | false | null | Promise<T | undefined | false | null>, timeout: number): Promise<T> {
    const deadline = Date.now() + timeout;
    let lastError: unknown;
    while (!this.hasExited) {
      try {
        const value = await check();
        if (value) return value;
      } catch (err) {
        lastError = err;
      }
      if (Date.now() >= deadline) {
        await this.kill();
        const detail = lastError instanceof Error ? `: last error: ${lastError.message}` : '';
        throw new ProcessStartError(`${this.name}: timed out after ${timeout} ms waiting for it to become ready${detail}`, this.#output);
      }
      // Wake up early when the process dies.
      await Promise.race([new Promise((resolve) => setTimeout(resolve, READY_POLL_MS)), this.exited]);
    }
    const exit = await this.exited;
    if (this.#spawnError !== undefined) {
      const code = (this.#spawnError as NodeJS.ErrnoException).code;
      throw new ProcessStartError(
        code === 'ENOENT'
          ? `${this.name}: binary not found (${this.#spawnError.message}); install the Debian package`
          : `${this.name}: could not start: ${this.#spawnError.message}`,
        this.#output,
        { cause: this.#spawnError },
      );
    }
    throw new ProcessStartError(`${this.name} exited before it was ready (code ${exit.code}, signal ${exit.signal})`, this.#output);
  }

  /** SIGKILLs the process and waits until it has exited. */
  async kill(): Promise<void> {
    if (!this.hasExited) this.child.kill('SIGKILL');
    await this.exited;
  }
}

/** What a concrete starter provides to {@link ManagedServer}. */
export interface Launcher {
  /** Starts the process on the current port(s) and resolves when it is ready. */
  launch(): Promise<Spawned>;
  /** Temp dir removed by `stop()`. */
  tempDir: string;
}

/** Common `stop` / `restart` / `kill` behaviour for the starters. */
export class ManagedServer implements ManagedProcess {
  #current: Spawned;
  #stopped = false;

  constructor(
    readonly url: string,
    readonly port: number,
    current: Spawned,
    readonly launcher: Launcher,
  ) {
    this.#current = current;
  }

  get output(): string {
    return this.#current.output;
  }

  /** The running child's pid (undefined once stopped). */
  get pid(): number | undefined {
    return this.#stopped ? undefined : this.#current.child.pid;
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    await this.#current.kill();
    await rm(this.launcher.tempDir, { recursive: true, force: true });
  }

  async restart(): Promise<void> {
    if (this.#stopped) throw new Error(`${this.#current.name}: restart() after stop()`);
    await this.#current.kill();
    this.#current = await this.launcher.launch();
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (!this.#current.hasExited) this.#current.child.kill(signal);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}
