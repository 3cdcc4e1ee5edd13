/* eslint-disable @typescript-eslint/no-explicit-any -- protocol messages are free-form JSON in tests */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

export interface ScriptedProxyOptions {
  country?: string;
  features?: string[];
  /** Answers a command instead of the default behaviour (return undefined for the default). */
  onCommand?: (command: any, id: string, ws: WebSocket) => any | 'no-answer' | undefined;
  /** Answers a payload (offer, requestoffer, ...) instead of the default behaviour, like `onCommand`. */
  onPayload?: (payload: any, id: string, ws: WebSocket) => any | 'no-answer' | undefined;
}

/**
 * A proxy peer on a real loopback WebSocket that speaks the proxy protocol from a script: it
 * answers hellos (new session or resume), creates publishers and subscribers, answers offers
 * and requestoffers with fixed SDPs, and lets a test send anything (load updates, events,
 * garbage) and drop the connection. For the paths a real proxy cannot be made to take.
 */
export class ScriptedProxy {
  readonly received: any[] = [];
  readonly sockets = new Set<WebSocket>();
  /** Sessions this proxy knows; a resume of another id fails with `no_such_session`. */
  readonly sessions = new Set<string>();
  /** `Host` headers of the WebSocket upgrades. */
  readonly hosts: string[] = [];
  #next = 0;

  private constructor(
    readonly server: Server,
    readonly wss: WebSocketServer,
    readonly url: string,
    readonly options: ScriptedProxyOptions,
  ) {}

  static async start(options: ScriptedProxyOptions = {}): Promise<ScriptedProxy> {
    const server = createServer((_req, res) => res.writeHead(404).end());
    const wss = new WebSocketServer({ server, path: '/proxy' });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const proxy = new ScriptedProxy(server, wss, `http://127.0.0.1:${port}/`, options);
    wss.on('connection', (ws, req) => {
      proxy.hosts.push(String(req.headers.host));
      proxy.#accept(ws);
    });
    return proxy;
  }

  /** Messages of `type` received so far (commands by their command type). */
  commands(type: string): any[] {
    return this.received.filter((m) => m.type === 'command' && m.command.type === type).map((m) => m.command);
  }

  hellos(): any[] {
    return this.received.filter((m) => m.type === 'hello').map((m) => m.hello);
  }

  /** Sends a frame (object or raw text) to every connected signaling server. */
  send(frame: unknown): void {
    const text = typeof frame === 'string' ? frame : JSON.stringify(frame);
    for (const ws of this.sockets) ws.send(text);
  }

  sendBinary(data: Buffer): void {
    for (const ws of this.sockets) ws.send(data);
  }

  load(load: number, bandwidth?: Record<string, number>): void {
    this.send({ type: 'event', event: { type: 'update-load', load, ...(bandwidth ? { bandwidth } : {}) } });
  }

  /** Drops every connection (no close handshake). */
  dropConnections(): void {
    for (const ws of this.sockets) ws.terminate();
  }

  /** Forgets its sessions (as a restarted proxy would). */
  forgetSessions(): void {
    this.sessions.clear();
  }

  async stop(): Promise<void> {
    this.dropConnections();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  #accept(ws: WebSocket): void {
    this.sockets.add(ws);
    ws.on('close', () => this.sockets.delete(ws));
    ws.on('message', (data) => {
      const msg = JSON.parse(data.toString());
      this.received.push(msg);
      this.#answer(ws, msg);
    });
  }

  #answer(ws: WebSocket, msg: any): void {
    const reply = (body: unknown) => ws.send(JSON.stringify({ id: msg.id, ...(body as object) }));
    switch (msg.type) {
      case 'hello': {
        const resume = msg.hello.resumeid;
        if (resume && !this.sessions.has(resume)) return reply({ type: 'error', error: { code: 'no_such_session', message: 'The session to resume does not exist.' } });
        const sessionid = resume || `session-${++this.#next}`;
        this.sessions.add(sessionid);
        reply({
          type: 'hello',
          hello: { version: '1.0', sessionid, server: { version: 'scripted', features: this.options.features ?? [], ...(this.options.country ? { country: this.options.country } : {}) } },
        });
        ws.send(JSON.stringify({ type: 'event', event: { type: 'update-load', load: 0 } }));
        return;
      }
      case 'command': {
        const custom = this.options.onCommand?.(msg.command, msg.id, ws);
        if (custom === 'no-answer') return;
        if (custom !== undefined) return reply(custom);
        const c = msg.command;
        if (c.type === 'create-publisher') return reply({ type: 'command', command: { id: `pub-${++this.#next}`, bitrate: c.bitrate } });
        if (c.type === 'create-subscriber') return reply({ type: 'command', command: { id: `sub-${++this.#next}`, sid: `sid-${this.#next}` } });
        return reply({ type: 'command', command: {} });
      }
      case 'payload': {
        const custom = this.options.onPayload?.(msg.payload, msg.id, ws);
        if (custom === 'no-answer') return;
        if (custom !== undefined) return reply(custom);
        const p = msg.payload;
        const jsep =
          p.type === 'offer' ? { type: 'answer', sdp: 'v=0 answer' } : p.type === 'requestoffer' ? { type: 'offer', sdp: 'v=0 offer' } : undefined;
        return reply({ type: 'payload', payload: { type: p.type, clientId: p.clientId, ...(jsep ? { payload: jsep } : {}) } });
      }
    }
  }
}
