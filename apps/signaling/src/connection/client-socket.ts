/**
 * What a {@link ClientSocket} reports to its one owner (the `ClientConnection`). Plain method
 * calls, in wire order: no event emitter and no closure per connection on the frame path.
 */
export interface SocketSink {
  /** One complete text message, valid UTF-8; `bytes` is its encoded length. */
  onSocketText(text: string, bytes: number): void;
  onSocketBinary(): void;
  onSocketPong(payload: Buffer): void;
  /** The peer broke the protocol (the socket is already closing with the matching code). */
  onSocketError(message: string): void;
  /** The socket is gone; called once. `code` is the peer's close code, 1006 without one. */
  onSocketClose(code: number): void;
}

/**
 * The transport under one client connection: the server's own WebSocket on a raw TCP/TLS socket
 * (`websocket/server-websocket.ts`), or a client relayed from another node over gRPC
 * (`cluster/relay-socket.ts`).
 */
export interface ClientSocket {
  /** Sets the owner; done once, right after the socket is handed over. */
  attach(sink: SocketSink): void;
  /** Bytes written but not yet taken by the kernel (the slow-consumer budget reads this). */
  readonly bufferedAmount: number;
  /** One text frame; ignored once a close frame was sent or received. */
  sendText(payload: string | Buffer): void;
  ping(payload: string): void;
  /** Starts the closing handshake; without `code` the close frame is empty (the peer sees 1005). */
  close(code?: number, reason?: string): void;
  /** Drops the connection at once. */
  terminate(): void;
}
