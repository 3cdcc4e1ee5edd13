// Worker thread for room-fill.int.spec.ts: runs the clients on the other core, so the
// figure measures the server rather than the clients' JSON handling on the same thread.
// Plain CommonJS (no transform) because jest does not load worker files itself.
const { parentPort, workerData } = require('node:worker_threads');
const WebSocket = require('ws');

const { wsUrl, backendUrl, params, roomId, concurrency } = workerData;
const SESSION_ID = /"sessionid":"([A-Za-z0-9_-]+)"/g;

class Client {
  constructor() {
    this.ws = new WebSocket(wsUrl);
    this.known = new Set();
    this.sessionId = '';
    this.replies = new Map();
    this.ws.on('message', (data) => {
      const text = data.toString();
      if (text.startsWith('{"id"')) {
        const msg = JSON.parse(text);
        this.replies.get(msg.id)?.(msg);
      } else if (text.startsWith('{"type":"event","event":{"target":"room","type":"join"')) {
        for (const m of text.matchAll(SESSION_ID)) this.known.add(m[1]);
      } else if (text.startsWith('{"type":"event","event":{"target":"room","type":"leave"')) {
        for (const id of JSON.parse(text).event.leave) this.known.delete(id);
      }
    });
  }
  opened() {
    return new Promise((resolve, reject) => {
      this.ws.once('open', resolve);
      this.ws.once('error', reject);
    });
  }
  request(id, message) {
    return new Promise((resolve) => {
      this.replies.set(id, resolve);
      this.ws.send(JSON.stringify({ id, ...message }));
    });
  }
}

async function main() {
  const clients = [];
  const started = Date.now();
  for (let i = 0; i < params.length; i += concurrency) {
    await Promise.all(
      params.slice(i, i + concurrency).map(async (p, j) => {
        const c = new Client();
        clients.push(c);
        await c.opened();
        const hello = await c.request('h', { type: 'hello', hello: { version: '1.0', auth: { url: backendUrl, params: p } } });
        if (hello.type !== 'hello') throw new Error(`hello failed: ${JSON.stringify(hello)}`);
        c.sessionId = hello.hello.sessionid;
        const join = await c.request('j', { type: 'room', room: { roomid: roomId, sessionid: `nc-${i + j}` } });
        if (join.type !== 'room') throw new Error(`join failed: ${JSON.stringify(join)}`);
      }),
    );
  }
  const joined = Date.now();
  const deadline = Date.now() + 120_000;
  while (!clients.every((c) => c.known.size === params.length && c.known.has(c.sessionId))) {
    if (Date.now() > deadline) {
      const sizes = clients.map((c) => c.known.size);
      throw new Error(`incomplete member lists: min ${Math.min(...sizes)} of ${params.length}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  const complete = Date.now();
  for (const c of clients) c.ws.terminate();
  parentPort.postMessage({ ok: true, joinedMs: joined - started, completeMs: complete - started });
}

main().catch((err) => parentPort.postMessage({ ok: false, error: String(err && err.stack ? err.stack : err) }));
