import type { Logger } from '@talk-signaling/runtime';
import { createBus } from './create-bus';

function logger(warnings: string[]): Logger {
  const l: Logger = {
    debug: () => undefined,
    info: () => undefined,
    warn: (a: object | string, msg?: string) => void warnings.push(typeof a === 'string' ? a : String(msg)),
    error: () => undefined,
    child: () => l,
    isLevelEnabled: () => true,
    flush: () => undefined,
  };
  return l;
}

describe('createBus', () => {
  it('keeps the in-process bus for nats://loopback and the deprecated :loopback:', async () => {
    const warnings: string[] = [];
    const bus = createBus(['nats://loopback'], { log: logger(warnings) });
    expect(bus.kind).toBe('loopback');
    expect(warnings).toEqual([]);
    const old = createBus([' :loopback: '], { log: logger(warnings) });
    expect(old.kind).toBe('loopback');
    expect(warnings[0]).toMatch(/deprecated/);
    await Promise.all([bus.close(), old.close()]);
  });

  it('builds a NATS bus for server URLs (not connecting until started)', async () => {
    const bus = createBus(['nats://127.0.0.1:4222', 'nats://127.0.0.2:4222'], { log: logger([]) });
    expect(bus.kind).toBe('nats');
    expect(bus.info()).toEqual({ urls: ['nats://127.0.0.1:4222', 'nats://127.0.0.2:4222'], connected: false });
    await bus.close();
  });
});
