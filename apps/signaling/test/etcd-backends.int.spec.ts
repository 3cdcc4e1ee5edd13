import { EtcdClient } from '@talk-signaling/cluster';
import { startFakeNextcloud, type FakeNextcloud } from '@talk-signaling/fake-nextcloud';
import { silentLogger } from '@talk-signaling/runtime';
import { startEtcd, TestClient, waitFor, type ManagedProcess } from '@talk-signaling/testing';
import { startTestSetup, type TestSetup } from './test-server';

jest.setTimeout(60_000);

const PREFIX = '/signaling/backend/';

/** `[backend] backendtype = etcd` against a real etcd: backends come, change and go without a restart. */
describe('backends from etcd', () => {
  let etcd: ManagedProcess;
  let writer: EtcdClient;
  let other: FakeNextcloud;
  let setup: TestSetup;

  beforeAll(async () => {
    etcd = await startEtcd();
    writer = (await EtcdClient.create({ endpoints: [etcd.url] }, silentLogger()))!;
    other = await startFakeNextcloud({ secret: 'other-backend-secret' });
    // The generated config also has a static `[backend] backends = nc1`: with etcd it must be ignored.
    setup = await startTestSetup({
      extraConfig: ['[backend]', 'backendtype = etcd', `backendprefix = ${PREFIX}`, '[etcd]', `endpoints = ${etcd.url}`].join('\n'),
    });
  });
  afterAll(async () => {
    await setup?.stop();
    await other?.close();
    writer?.close();
    await etcd?.stop();
  });

  const hello = async (nc: FakeNextcloud, user: string) => {
    const client = await TestClient.connect(setup.wsUrl);
    const reply = await client.hello({ url: nc.backendUrl, params: nc.addUser(user) });
    return { client, reply };
  };
  const backendCurrent = async () => (await setup.server.registry.getSingleMetric('signaling_backend_current')!.get()).values[0]!.value;
  const put = (key: string, value: unknown) => writer.etcd3.put(`${PREFIX}${key}`).value(typeof value === 'string' ? value : JSON.stringify(value)).exec();

  it('ignores the static backend sections', async () => {
    const { client, reply } = await hello(setup.nextcloud, 'static-user');
    expect(reply.error?.code).toBe('invalid_backend');
    expect(await backendCurrent()).toBe(0);
    client.close();
  });

  it('adds a backend when its key appears (old "url" and new "urls" forms)', async () => {
    await put('one', { url: setup.nextcloud.url, secret: setup.nextcloud.secret });
    await put('two', { urls: [other.url], secret: other.secret });
    await waitFor(() => setup.server.backends.size === 2, { timeout: 10_000, name: 'two backends' });
    expect(setup.server.backends.getById(`${PREFIX}one`)?.urls).toEqual([`${setup.nextcloud.url}/`.replace(/\/\/$/, '/')]);
    for (const nc of [setup.nextcloud, other]) {
      const { client, reply } = await hello(nc, 'etcd-user');
      expect(reply.type).toBe('hello');
      await client.bye();
    }
    expect(await backendCurrent()).toBe(2);
  });

  it('applies a changed value (a session limit) to new sessions', async () => {
    await put('two', { urls: [other.url], secret: other.secret, sessionlimit: 1 });
    await waitFor(() => setup.server.backends.getById(`${PREFIX}two`)?.sessionLimit === 1, { timeout: 10_000, name: 'limit applied' });
    const first = await hello(other, 'limited-1');
    expect(first.reply.type).toBe('hello');
    const second = await hello(other, 'limited-2');
    expect(second.reply.error?.code).toBe('session_limit_exceeded');
    second.client.close();
    await first.client.bye();
  });

  it('ignores invalid values, keeping the last valid one of a key', async () => {
    await put('broken', 'not json');
    await put('nosecret', { url: other.url });
    await put('nourl', { secret: 'x' });
    await put('one', { url: 'ftp://example.invalid', secret: 'x' });
    await put('marker', { url: 'https://marker.invalid', secret: 'marker-secret' });
    await waitFor(() => setup.server.backends.size === 3, { timeout: 10_000, name: 'marker backend' });
    expect(setup.server.backends.getById(`${PREFIX}broken`)).toBeUndefined();
    expect(setup.server.backends.getById(`${PREFIX}nosecret`)).toBeUndefined();
    expect(setup.server.backends.getById(`${PREFIX}nourl`)).toBeUndefined();
    const { client, reply } = await hello(setup.nextcloud, 'still-one');
    expect(reply.type).toBe('hello');
    await client.bye();
  });

  it('removes a backend when its key is deleted', async () => {
    await writer.etcd3.delete().key(`${PREFIX}one`).exec();
    await waitFor(() => setup.server.backends.getById(`${PREFIX}one`) === undefined, { timeout: 10_000, name: 'backend removed' });
    const { client, reply } = await hello(setup.nextcloud, 'removed-user');
    expect(reply.error?.code).toBe('invalid_backend');
    client.close();
    expect(await backendCurrent()).toBe(2);
  });

  it('is reported by the self-check: etcd watched, then gone (with a hint) when etcd stops', async () => {
    const etcdCheck = async () => (await setup.server.selfCheck.run()).checks.find((c) => c.name === 'etcd');
    expect(await etcdCheck()).toMatchObject({ status: 'ok', detail: `backends watched at ${etcd.url}` });
    const backendChecks = (await setup.server.selfCheck.run()).checks.filter((c) => c.name.startsWith('backend '));
    expect(backendChecks.find((c) => c.name.startsWith(`backend ${PREFIX}two`))).toMatchObject({ status: 'ok' });
    expect(backendChecks.find((c) => c.name.startsWith(`backend ${PREFIX}marker`))).toMatchObject({ status: 'error' });
    await etcd.stop();
    await waitFor(async () => (await etcdCheck())?.status === 'error', { timeout: 20_000, name: 'etcd reported gone' });
    expect((await etcdCheck())?.hint).toContain('[etcd] endpoints');
    // The last known backends stay in use meanwhile.
    expect(setup.server.backends.size).toBe(2);
  });

  it('is not changed by SIGHUP-style reloads of the static sections', () => {
    expect(setup.server.reload(setup.server.config)).toEqual({ added: [], removed: [] });
    expect(setup.server.backends.size).toBe(2);
  });
});
