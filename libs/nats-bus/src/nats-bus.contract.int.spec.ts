import { silentLogger } from '@talk-signaling/runtime';
import { startNatsServer, type ManagedProcess } from '@talk-signaling/testing';
import { busContract } from './bus-contract';
import { NatsBus } from './nats-bus';

let nats: ManagedProcess;
beforeAll(async () => {
  nats = await startNatsServer();
});
afterAll(async () => {
  await nats?.stop();
});

busContract({
  name: 'NatsBus (two connections to a real nats-server)',
  async make({ limits, onError, metrics }) {
    const a = new NatsBus({ servers: [nats.url], log: silentLogger(), limits, onError, metrics });
    const b = new NatsBus({ servers: [nats.url], log: silentLogger(), limits, onError });
    await Promise.all([a.start(), b.start()]);
    return {
      a,
      b,
      metrics,
      settle: async () => {
        await Promise.all([a.flush(), b.flush()]);
      },
      close: async () => {
        await Promise.all([a.close(), b.close()]);
      },
    };
  },
});
