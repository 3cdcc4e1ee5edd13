export type { Bus, BusSubscription } from './bus';
export { LoopbackBus } from './loopback-bus';
export { backendRoomSubject, COMPAT_BACKEND_ID, roomSubject, sessionSubject, userSubject } from './subject';
