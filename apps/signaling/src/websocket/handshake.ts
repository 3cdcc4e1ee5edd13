import { createHash } from 'node:crypto';
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { ServerWebSocket } from './server-websocket';

/** RFC 6455 4.2.2: the GUID appended to the client's key before hashing. */
const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
/** A base64 encoding of 16 bytes. */
const KEY = /^[+/0-9A-Za-z]{22}==$/;
/** RFC 7230 token characters (subprotocol names). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** The handshake response to send, or why the upgrade is refused. */
export type HandshakeResult = { ok: true; accept: string; protocol: string | undefined } | { ok: false; status: number; message: string; headers?: Record<string, string> };

/**
 * Checks an upgrade request the way ws 8 did for this server (which it replaces on `/spreed`):
 * GET only (405), `Upgrade: websocket`, a well-formed `Sec-WebSocket-Key`, version 13 or 8
 * (400 with the versions we speak), a well-formed `Sec-WebSocket-Protocol` whose first entry is
 * echoed. No extension is ever negotiated (permessage-deflate was off): the header is ignored.
 */
export function checkUpgrade(req: IncomingMessage): HandshakeResult {
  if (req.method !== 'GET') return { ok: false, status: 405, message: 'Invalid HTTP method' };
  const upgrade = req.headers.upgrade;
  if (upgrade === undefined || upgrade.toLowerCase() !== 'websocket') return { ok: false, status: 400, message: 'Invalid Upgrade header' };
  const key = req.headers['sec-websocket-key'];
  if (key === undefined || !KEY.test(key)) return { ok: false, status: 400, message: 'Missing or invalid Sec-WebSocket-Key header' };
  const version = Number(req.headers['sec-websocket-version']);
  if (version !== 13 && version !== 8) {
    return { ok: false, status: 400, message: 'Missing or invalid Sec-WebSocket-Version header', headers: { 'Sec-WebSocket-Version': '13, 8' } };
  }
  const offered = req.headers['sec-websocket-protocol'];
  let protocol: string | undefined;
  if (offered !== undefined) {
    const protocols = parseProtocols(offered);
    if (protocols === undefined) return { ok: false, status: 400, message: 'Invalid Sec-WebSocket-Protocol header' };
    protocol = protocols[0];
  }
  return { ok: true, accept: acceptKey(key), protocol };
}

/**
 * Completes the upgrade of `socket` (101 with `extraHeaders`) and returns the WebSocket on it, or
 * answers an HTTP error and returns undefined. A socket whose peer already went away is dropped.
 */
export function acceptUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, opts: { maxPayload: number; extraHeaders: readonly string[] }): ServerWebSocket | undefined {
  const onError = (): void => void socket.destroy();
  socket.on('error', onError);
  const check = checkUpgrade(req);
  if (!check.ok) {
    refuseUpgrade(socket, check.status, check.message, check.headers);
    return undefined;
  }
  if (!socket.readable || !socket.writable) {
    socket.destroy();
    return undefined;
  }
  socket.write(switchingProtocols(check.accept, check.protocol, opts.extraHeaders));
  socket.removeListener('error', onError);
  return new ServerWebSocket(socket, head, opts.maxPayload);
}

/** `Sec-WebSocket-Accept` for a client key. */
export function acceptKey(key: string): string {
  return createHash('sha1')
    .update(key + GUID)
    .digest('base64');
}

/** The 101 response head, with `extraHeaders` (`Name: value` lines) after the WebSocket ones. */
export function switchingProtocols(accept: string, protocol: string | undefined, extraHeaders: readonly string[]): string {
  const lines = ['HTTP/1.1 101 Switching Protocols', 'Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Accept: ${accept}`];
  if (protocol !== undefined) lines.push(`Sec-WebSocket-Protocol: ${protocol}`);
  lines.push(...extraHeaders, '', '');
  return lines.join('\r\n');
}

/** Refuses the upgrade with an HTTP error and closes the socket once it is written. */
export function refuseUpgrade(socket: Duplex, status: number, message = STATUS_CODES[status] ?? '', headers: Record<string, string> = {}): void {
  const all: Record<string, string | number> = { Connection: 'close', 'Content-Type': 'text/html', 'Content-Length': Buffer.byteLength(message), ...headers };
  // Node's HTTP server no longer listens for errors on an upgrade's socket: a peer that resets
  // it now must not become an unhandled 'error' (which would end the process).
  if (socket.listenerCount('error') === 0) socket.on('error', () => socket.destroy());
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n${Object.entries(all)
      .map(([name, value]) => `${name}: ${value}`)
      .join('\r\n')}\r\n\r\n${message}`,
  );
}

/**
 * A comma-separated list of distinct tokens, optional spaces or tabs around each (not before the
 * first); undefined when malformed or a name repeats.
 */
export function parseProtocols(header: string): string[] | undefined {
  if (header.startsWith(' ') || header.startsWith('\t')) return undefined;
  const names = header.split(',').map((part) => part.replace(/^[ \t]+|[ \t]+$/g, ''));
  if (names.some((name) => !TOKEN.test(name)) || new Set(names).size !== names.length) return undefined;
  return names;
}
