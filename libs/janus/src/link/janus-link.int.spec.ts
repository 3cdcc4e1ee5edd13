import { Registry } from 'prom-client';
import { FaultProxy, startJanus, waitFor, waitForEvent, type ManagedProcess } from '@talk-signaling/testing';
import type { Logger } from '@talk-signaling/runtime';
import { JanusConnection } from '../gateway/janus-connection';
import type { JanusHandle } from '../gateway/janus-handle';
import type { JanusSession } from '../gateway/janus-session';
import { VIDEOROOM_PLUGIN } from '../videoroom/videoroom-types';
import { JanusLink } from './janus-link';

jest.setTimeout(30_000);

/** Drops everything but warnings, which it keeps (to see the start-up retries). */
function warningsLogger(warnings: string[]): Logger {
  const log: Logger = {
    debug: () => undefined,
    info: () => undefined,
    error: () => undefined,
    warn: (first: object | string, msg?: string) => void warnings.push(typeof first === 'string' ? first : (msg ?? '')),
    child: () => log,
    isLevelEnabled: () => false,
    flush: () => undefined,
  };
  return log;
}

describe('JanusLink against a real Janus', () => {
  let janus: ManagedProcess;
  let proxy: FaultProxy;
  let inspector: JanusConnection;
  let control: JanusHandle;
  const links: JanusLink[] = [];

  const roomExists = async (room: number): Promise<boolean> => (await control.request({ request: 'exists', room }))['exists'] === true;
  const newLink = (url: string, warnings: string[] = []): JanusLink => {
    const link = new JanusLink({
      url,
      timeoutMs: 5_000,
      log: warningsLogger(warnings),
      registry: new Registry(),
      reconcileIntervalMs: 100,
      startRetry: { initialMs: 50, maxMs: 200 },
      reconnect: { initialMs: 50, maxMs: 200 },
    });
    links.push(link);
    return link;
  };

  beforeAll(async () => {
    janus = await startJanus();
    proxy = await FaultProxy.start({ port: janus.port });
    inspector = await JanusConnection.connect({ url: janus.url });
    control = await (await inspector.createSession()).attach(VIDEOROOM_PLUGIN);
  });
  afterAll(async () => {
    for (const link of links) await link.stop();
    await inspector?.close();
    await proxy?.close();
    await janus?.stop();
  });

  it('retries until Janus answers, comes back up on a new session after a loss, and reconciles the rooms the loss left', async () => {
    proxy.suspend();
    const warnings: string[] = [];
    const link = newLink(`ws://127.0.0.1:${proxy.port}`, warnings);
    const firstUp = waitForEvent<[JanusSession]>(link, 'up', { timeout: 20_000 });
    link.start();
    await waitFor(() => warnings.filter((w) => w === 'could not connect to janus, will retry').length >= 2, { timeout: 10_000, name: 'start-up retries' });
    expect(link.connected).toBe(false);
    expect(link.stats()).toEqual({ url: `ws://127.0.0.1:${proxy.port}`, connected: false, publishers: 0, clients: 0 });
    proxy.unsuspend();
    const [first] = await firstUp;
    expect(link.session).toBe(first);
    expect(link.info?.plugins[VIDEOROOM_PLUGIN]).toBeDefined();

    const publisher = await link.registry!.createPublisher(first, { publisherId: 'link-a', streamType: 'video', bitrate: 100_000 });
    expect(link.stats()).toMatchObject({ connected: true, publishers: 1, clients: 1, uptime: expect.any(String) });

    const down = waitForEvent<[string]>(link, 'down', { timeout: 10_000 });
    const secondUp = waitForEvent<[JanusSession]>(link, 'up', { timeout: 20_000 });
    proxy.suspend();
    expect((await down)[0]).toMatch(/^janus (connection lost|session closed)$/);
    expect(link.session).toBeUndefined();
    // Rooms belong to the plugin, not the session: the lost session's room is still there.
    expect(await roomExists(publisher.roomId)).toBe(true);
    proxy.unsuspend();
    const [second] = await secondUp;
    expect(second.id).not.toBe(first.id);
    expect(link.registry!.publisherCount).toBe(0);

    await waitFor(async () => !(await roomExists(publisher.roomId)), { timeout: 10_000, name: 'orphan room destroyed by the periodic reconciliation' });
  });

  it('a session Janus forgot while the socket lives is replaced by a new one on the same socket', async () => {
    const link = newLink(janus.url);
    const up = waitForEvent<[JanusSession]>(link, 'up', { timeout: 20_000 });
    link.start();
    const [first] = await up;
    const down = waitForEvent<[string]>(link, 'down', { timeout: 10_000 });
    const again = waitForEvent<[JanusSession]>(link, 'up', { timeout: 20_000 });
    await first.destroy();
    expect(await down).toEqual(['janus session closed']);
    const [second] = await again;
    expect(second.id).not.toBe(first.id);
    expect(link.session).toBe(second);
  });

  it('stop() destroys the rooms of the registry, closes the socket and emits no down', async () => {
    const link = newLink(janus.url);
    const up = waitForEvent<[JanusSession]>(link, 'up', { timeout: 20_000 });
    link.start();
    const [session] = await up;
    const publisher = await link.registry!.createPublisher(session, { publisherId: 'link-b', streamType: 'screen', bitrate: 100_000 });
    expect(await roomExists(publisher.roomId)).toBe(true);
    let downs = 0;
    link.on('down', () => downs++);
    await link.stop();
    expect(await roomExists(publisher.roomId)).toBe(false);
    expect(link.connected).toBe(false);
    expect(session.closed).toBe(true);
    expect(downs).toBe(0);
    expect(await link.reconcile()).toEqual([]);
  });
});
