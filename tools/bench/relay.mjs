#!/usr/bin/env node
// The "ceiling" of tools/bench/compare: a bare `ws` relay that speaks just enough of /spreed for
// the bench client (hello, room join, bye) and otherwise only forwards messages: no backend
// auth, no validation, no permissions, no bus, no per-session state beyond a map. What a server
// on Node + ws cannot beat on this machine.
//   node tools/bench/relay.mjs [-addr 127.0.0.1:28080]
import { createServer } from 'node:http';
import { WebSocketServer } from 'ws';

const addrFlag = process.argv.indexOf('-addr');
const [host, port] = (addrFlag >= 0 ? process.argv[addrFlag + 1] : '127.0.0.1:28080').split(':');

const sessions = new Map(); // session id -> ws
const rooms = new Map(); // room id -> Set<ws>
let nextSession = 1;

const http = createServer((_req, res) => res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"relay":true}'));
const wss = new WebSocketServer({ server: http, path: '/spreed', perMessageDeflate: false, maxPayload: 64 * 1024 });

wss.on('connection', (ws) => {
  ws.on('message', (data) => {
    let msg;
    try {
      msg = JSON.parse(data);
    } catch {
      return;
    }
    const id = msg.id === undefined ? '' : `"id":${JSON.stringify(msg.id)},`;
    switch (msg.type) {
      case 'hello': {
        ws.sessionId = `relay-${nextSession++}`;
        sessions.set(ws.sessionId, ws);
        const userid = msg.hello?.auth?.params?.userid ?? '';
        ws.userid = userid;
        ws.send(`{${id}"type":"hello","hello":{"version":"1.0","sessionid":"${ws.sessionId}","resumeid":"${ws.sessionId}","userid":${JSON.stringify(userid)},"server":{}}}`);
        break;
      }
      case 'room': {
        const roomid = msg.room?.roomid ?? '';
        leave(ws);
        ws.send(`{${id}"type":"room","room":{"roomid":${JSON.stringify(roomid)}}}`);
        if (roomid === '') break;
        let room = rooms.get(roomid);
        if (room === undefined) rooms.set(roomid, (room = new Set()));
        room.add(ws);
        ws.room = room;
        const entry = `{"sessionid":"${ws.sessionId}","userid":${JSON.stringify(ws.userid)}}`;
        const joinOne = `{"type":"event","event":{"target":"room","type":"join","join":[${entry}]}}`;
        for (const other of room) if (other !== ws) other.send(joinOne);
        const all = [...room].map((s) => `{"sessionid":"${s.sessionId}","userid":${JSON.stringify(s.userid)}}`).join(',');
        ws.send(`{"type":"event","event":{"target":"room","type":"join","join":[${all}]}}`);
        break;
      }
      case 'message': {
        const recipient = msg.message?.recipient ?? {};
        const frame = `{"type":"message","message":{"sender":{"type":"${recipient.type}","sessionid":"${ws.sessionId}"},"data":${JSON.stringify(msg.message?.data ?? null)}}}`;
        if (recipient.type === 'session') {
          const target = sessions.get(recipient.sessionid);
          if (target !== undefined && target !== ws) target.send(frame);
        } else if (recipient.type === 'room' && ws.room !== undefined) {
          for (const other of ws.room) if (other !== ws) other.send(frame);
        }
        break;
      }
      case 'bye':
        ws.send(`{${id}"type":"bye"}`);
        ws.close(1000);
        break;
      default:
        break;
    }
  });
  ws.on('close', () => {
    leave(ws);
    if (ws.sessionId !== undefined) sessions.delete(ws.sessionId);
  });
});

function leave(ws) {
  const room = ws.room;
  if (room === undefined) return;
  room.delete(ws);
  ws.room = undefined;
  const frame = `{"type":"event","event":{"target":"room","type":"leave","leave":["${ws.sessionId}"]}}`;
  for (const other of room) other.send(frame);
}

http.listen(Number(port), host, () => console.log(`relay listening on ${host}:${port}`));
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
