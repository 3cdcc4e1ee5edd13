export { waitFor, waitForEvent, sleep } from './wait-for';
export type { WaitForOptions, WaitForEventOptions } from './wait-for';
export { freePort } from './free-port';
export { TestClient, DEFAULT_CLIENT_TIMEOUT_MS } from './test-client';
export type { TestClientConnectOptions, HelloOptions, HelloInternalOptions, CloseInfo } from './test-client';
