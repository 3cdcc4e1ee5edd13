/**
 * Budgets of a bus' delivery queue and of one incoming NATS payload. Every limit protects the
 * process from input it does not control: a flood on one subject, a slow handler, a hostile
 * publisher on the NATS server.
 */
export interface BusLimits {
  /** Queued messages per subject; more are dropped (upstream: a 64-message channel per subscription). */
  maxSubjectMessages: number;
  /** Queued bytes per subject (serialised JSON size). */
  maxSubjectBytes: number;
  /** Queued bytes over all subjects. */
  maxTotalBytes: number;
  /** Largest incoming NATS payload accepted (bytes). nats-server's own default `max_payload` is 1 MiB. */
  maxMessageBytes: number;
  /** Deepest `{`/`[` nesting accepted in an incoming payload. */
  maxDepth: number;
  /** Messages handed to handlers per event-loop turn before yielding to I/O. */
  maxBatch: number;
}

export const DEFAULT_BUS_LIMITS: Readonly<BusLimits> = Object.freeze({
  maxSubjectMessages: 1024,
  maxSubjectBytes: 4 * 1024 * 1024,
  maxTotalBytes: 64 * 1024 * 1024,
  maxMessageBytes: 1024 * 1024,
  maxDepth: 128,
  maxBatch: 1024,
});

export function busLimits(overrides: Partial<BusLimits> = {}): BusLimits {
  return { ...DEFAULT_BUS_LIMITS, ...overrides };
}
