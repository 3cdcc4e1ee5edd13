import { connect } from 'node:net';
import { startJanus, type ManagedProcess } from '@talk-signaling/testing';
import { startTestProxy, type TestProxy } from './proxy-harness';
import { makeTokenIdentity } from './proxy-test-client';

jest.setTimeout(30_000);

describe('mcu-proxy [http] readtimeout', () => {
  let janus: ManagedProcess;
  let proxy: TestProxy;

  beforeAll(async () => {
    janus = await startJanus();
    proxy = await startTestProxy({ janusUrl: janus.url, signaling: [makeTokenIdentity('server1')], extra: '[http]\nreadtimeout = 1' });
  });
  afterAll(async () => {
    await proxy?.stop();
    await janus?.stop();
  });

  it('cuts off a client that never finishes its request headers, and keeps serving others', async () => {
    const port = Number(new URL(proxy.httpUrl).port);
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write('GET /welcome HTTP/1.1\r\nHost: x\r\n'); // never the final blank line
    let answer = '';
    socket.on('data', (d: Buffer) => (answer += d.toString()));
    await new Promise<void>((resolve) => socket.once('close', () => resolve()));
    expect(answer).toMatch(/^HTTP\/1.1 408/);
    expect((await fetch(`${proxy.httpUrl}/welcome`)).status).toBe(200);
  });
});
