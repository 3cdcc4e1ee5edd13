import { FaultProxy, startJanus, waitFor, type ManagedProcess } from '@talk-signaling/testing';
import { JanusInspector } from './janus-inspector';
import { startTestProxy, type TestProxy } from './proxy-harness';
import { makeTokenIdentity, proxyToken, ProxyTestClient } from './proxy-test-client';

jest.setTimeout(40_000);

/**
 * The link to Janus breaks while Janus itself lives on: the rooms of the lost session stay in
 * Janus (rooms belong to the plugin, not the session). After the proxy is back, its periodic
 * check destroys them.
 */
describe('mcu-proxy after losing its Janus connection', () => {
  const server1 = makeTokenIdentity('server1');
  let janus: ManagedProcess;
  let link: FaultProxy;
  let proxy: TestProxy;
  let inspector: JanusInspector;
  let client: ProxyTestClient | undefined;

  beforeAll(async () => {
    janus = await startJanus();
    link = await FaultProxy.start({ port: janus.port });
    proxy = await startTestProxy({
      janusUrl: `ws://127.0.0.1:${link.port}`,
      signaling: [server1],
      options: { reconcileIntervalMs: 200, janusReconnect: { initialMs: 100, maxMs: 200 } },
    });
    await waitFor(() => proxy.app.backend.connected, { timeout: 10_000, name: 'proxy connected to janus' });
    inspector = await JanusInspector.connect(janus.url);
  });
  afterAll(async () => {
    client?.close();
    await inspector?.close();
    await proxy?.stop();
    await link?.close();
    await janus?.stop();
  });

  it('rooms orphaned by the lost link are destroyed once the proxy is back', async () => {
    client = await ProxyTestClient.connect(proxy.wsUrl);
    expect((await client.hello(await proxyToken(server1))).type).toBe('hello');
    const created = await client.command({ type: 'create-publisher', sid: '1', streamType: 'video' });
    const description = `${created.command.id as string}|video`;
    expect((await inspector.publisherRooms()).map((r) => r.description)).toContain(description);

    link.suspend();
    expect((await client.event('backend-disconnected', 10_000)).event.type).toBe('backend-disconnected');
    // Janus still has the room: nobody destroyed it.
    expect((await inspector.publisherRooms()).map((r) => r.description)).toContain(description);

    link.unsuspend();
    expect((await client.event('backend-connected', 15_000)).event.type).toBe('backend-connected');
    await waitFor(async () => !(await inspector.publisherRooms()).some((r) => r.description === description), {
      timeout: 10_000,
      name: 'orphan room destroyed by the reconciliation',
    });
    expect((await proxy.app.registry.getSingleMetric('signaling_mcu_janus_orphan_rooms_destroyed_total')?.get())?.values[0]?.value).toBe(1);
  });

  it('stopping the proxy (SIGTERM/SIGINT path) destroys the rooms of every session first', async () => {
    const c = await ProxyTestClient.connect(proxy.wsUrl);
    expect((await c.hello(await proxyToken(server1))).type).toBe('hello');
    const ids: string[] = [];
    for (const streamType of ['video', 'screen']) ids.push((await c.command({ type: 'create-publisher', sid: '1', streamType })).command.id as string);
    const ours = async () => (await inspector.publisherRooms()).filter((r) => ids.some((id) => r.description.startsWith(id)));
    expect(await ours()).toHaveLength(2);
    await proxy.stop();
    expect(await ours()).toEqual([]);
    c.close();
  });
});
