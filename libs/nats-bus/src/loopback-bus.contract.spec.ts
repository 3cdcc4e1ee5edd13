import { busContract } from './bus-contract';
import { LoopbackBus } from './loopback-bus';

busContract({
  name: 'LoopbackBus',
  async make({ limits, onError, metrics }) {
    // One process is the whole cluster: both "nodes" are the same bus.
    const bus = new LoopbackBus({ limits, onError, metrics });
    await bus.start();
    return { a: bus, b: bus, metrics, settle: async () => undefined, close: () => bus.close() };
  },
});
