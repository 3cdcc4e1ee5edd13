/**
 * What travels on the bus (upstream's `AsyncMessage`, fact sheet 6.1). Only the variants this
 * node produces today are typed; they are plain JSON so the NATS bus can encode them as is.
 */
export interface AsyncServerMessage {
  type: 'message';
  /** RFC 3339 send time; receivers drop room events older than their own join. */
  sendtime: string;
  /** A complete server message, e.g. `{type:'event', event:{...}}`. */
  message: ServerMessageObject;
  id?: string;
}

/** A server message as an object (`{type, <type>: {...}}`). */
export type ServerMessageObject = { type: string } & Record<string, unknown>;

export function asyncMessage(message: ServerMessageObject): AsyncServerMessage {
  return { type: 'message', sendtime: new Date().toISOString(), message };
}
