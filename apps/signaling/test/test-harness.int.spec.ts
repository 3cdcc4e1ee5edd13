import net from 'node:net';
import { startTestSetup } from './test-server';

/**
 * The harness itself: a server whose start fails half-way (its gRPC port is taken) is stopped
 * again by startTestSetup, which rejects with the cause (what it opened would otherwise keep the
 * test process from exiting: jest reports it and waits).
 */
describe('startTestSetup', () => {
  it('rejects with the start error and stops what had started when the gRPC port is taken', async () => {
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const port = (holder.address() as net.AddressInfo).port;
    try {
      await expect(startTestSetup({ extraConfig: `[grpc]\nlisten = 127.0.0.1:${port}\ntargets = 127.0.0.1:1` })).rejects.toThrow(`could not listen for gRPC on 127.0.0.1:${port}`);
    } finally {
      holder.close();
    }
  });
});
