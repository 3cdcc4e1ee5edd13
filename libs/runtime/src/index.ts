export { createLogger, silentLogger } from './logger';
export type { Logger, LoggerOptions, LogLevel } from './logger';
export { Backoff } from './backoff';
export type { BackoffOptions } from './backoff';
export { ShutdownRegistry } from './shutdown';
export { deepFreeze } from './deep-freeze';
