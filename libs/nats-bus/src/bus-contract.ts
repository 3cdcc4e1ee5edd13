/**
 * The behaviour every `Bus` must have, run against both implementations
 * (`loopback-bus.contract.spec.ts`, `nats-bus.contract.int.spec.ts`). A fixture provides two
 * "nodes": for the loopback bus both are the same bus (one process is the whole cluster); for
 * NATS they are two connections to one real nats-server.
 */
import { Registry } from 'prom-client';
import { waitFor } from '@talk-signaling/testing';
import type { Bus } from './bus';
import type { BusLimits } from './bus-limits';
import { createBusMetrics, type BusMetrics } from './metrics';

export interface BusNodes {
  a: Bus;
  b: Bus;
  /** Node a's metrics. */
  metrics: BusMetrics;
  /** Resolves once subscriptions made so far are in effect on every node. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

export interface BusFixture {
  name: string;
  make(opts: { limits?: Partial<BusLimits>; onError?: (err: unknown, subject: string) => void; metrics: BusMetrics }): Promise<BusNodes>;
}

const WAIT = { timeout: 10_000 };

/** A valid `AsyncMessage` (the NATS bus drops anything else) carrying test fields. */
function am(fields: Record<string, unknown>): object {
  return { type: 'message', message: { type: 'event', ...fields } };
}

function num(m: object): number {
  return (m as { message: { n: number } }).message.n;
}

/**
 * Queues FILLER small local messages first: the loopback bus measures local messages only once
 * a few dozen are queued (see DeliveryQueue.pushLocal).
 */
const FILLER = 80;
/** Spread over this many subjects, so no subject's own budget is touched by them. */
const FILLER_SUBJECTS = 10;
function subscribeFiller(bus: Bus): void {
  for (let i = 0; i < FILLER_SUBJECTS; i++) bus.subscribe(`filler.${i}`, () => undefined);
}
function fill(bus: Bus): void {
  for (let i = 0; i < FILLER; i++) bus.publish(`filler.${i % FILLER_SUBJECTS}`, am({ i }));
}

async function droppedCount(metrics: BusMetrics, reason: string): Promise<number> {
  const values = (await metrics.dropped.get()).values;
  return values.find((v) => v.labels.reason === reason)?.value ?? 0;
}

export function busContract(fixture: BusFixture): void {
  describe(`Bus contract: ${fixture.name}`, () => {
    let nodes: BusNodes | undefined;
    const make = async (opts: { limits?: Partial<BusLimits>; onError?: (err: unknown, subject: string) => void } = {}) => {
      nodes = await fixture.make({ ...opts, metrics: createBusMetrics(new Registry()) });
      return nodes;
    };
    afterEach(async () => {
      await nodes?.close();
      nodes = undefined;
    });

    it('delivers asynchronously, in publish order, to every subscriber of the subject on every node, and nowhere else', async () => {
      const { a, b, settle } = await make();
      const onA: unknown[] = [];
      const onA2: unknown[] = [];
      const onB: unknown[] = [];
      const wrong: unknown[] = [];
      a.subscribe('room.x', (m) => onA.push(m));
      a.subscribe('room.x', (m) => onA2.push(m));
      b.subscribe('room.x', (m) => onB.push(m));
      b.subscribe('room.y', (m) => wrong.push(m));
      await settle();
      const first = am({ n: 1 });
      for (let n = 1; n <= 50; n++) a.publish('room.x', n === 1 ? first : am({ n }));
      expect(onA).toEqual([]); // never re-entrant from publish
      await waitFor(() => onA.length === 50 && onA2.length === 50 && onB.length === 50, { ...WAIT, name: 'all deliveries' });
      const expected = Array.from({ length: 50 }, (_, i) => (am({ n: i + 1 })));
      expect(onA).toEqual(expected);
      expect(onA2).toEqual(expected);
      expect(onB).toEqual(expected);
      expect(onA[0]).toBe(first); // the publishing node's subscribers get the object itself
      expect(wrong).toEqual([]);
    });

    it('stops delivering after unsubscribe (idempotent), other subscribers of the subject keep theirs', async () => {
      const { a, b, settle } = await make();
      const gone: unknown[] = [];
      const kept: unknown[] = [];
      const sub = b.subscribe('session.s', (m) => gone.push(m));
      b.subscribe('session.s', (m) => kept.push(m));
      await settle();
      a.publish('session.s', am({ n: 1 }));
      await waitFor(() => kept.length === 1, { ...WAIT, name: 'first delivery' });
      sub.unsubscribe();
      sub.unsubscribe();
      a.publish('session.s', am({ n: 2 }));
      await waitFor(() => kept.length === 2, { ...WAIT, name: 'second delivery' });
      expect(gone).toEqual([am({ n: 1 })]);
    });

    it('one function subscribed twice is called twice, and once after one of the two unsubscribes', async () => {
      const { a, b, settle } = await make();
      const got: unknown[] = [];
      const handler = (m: object): void => void got.push(m);
      const first = b.subscribe('room.r', handler);
      b.subscribe('room.r', handler);
      await settle();
      a.publish('room.r', am({ n: 1 }));
      await waitFor(() => got.length === 2, { ...WAIT, name: 'two deliveries' });
      first.unsubscribe();
      a.publish('room.r', am({ n: 2 }));
      await waitFor(() => got.length === 3, { ...WAIT, name: 'one delivery' });
      expect(got).toEqual([am({ n: 1 }), am({ n: 1 }), am({ n: 2 })]);
    });

    it('delivers nothing to a subject whose last subscriber left, and again once someone subscribes', async () => {
      const { a, b, settle } = await make();
      const got: unknown[] = [];
      const marker: unknown[] = [];
      b.subscribe('marker', (m) => marker.push(m));
      b.subscribe('user.u', (m) => got.push(m)).unsubscribe();
      await settle();
      a.publish('user.u', am({ n: 1 }));
      a.publish('marker', am({}));
      await waitFor(() => marker.length === 1, { ...WAIT, name: 'marker' });
      expect(got).toEqual([]);
      b.subscribe('user.u', (m) => got.push(m));
      await settle();
      a.publish('user.u', am({ n: 2 }));
      await waitFor(() => got.length === 1, { ...WAIT, name: 'delivery after resubscribe' });
      expect(got).toEqual([am({ n: 2 })]);
    });

    it('keeps delivering to the others when a handler throws, and reports the error', async () => {
      const errors: { err: unknown; subject: string }[] = [];
      const { a, b, settle } = await make({ onError: (err, subject) => errors.push({ err, subject }) });
      const got: unknown[] = [];
      b.subscribe('s', () => {
        throw new Error('boom');
      });
      b.subscribe('s', (m) => got.push(m));
      await settle();
      a.publish('s', am({ x: 1 }));
      a.publish('s', am({ x: 2 }));
      await waitFor(() => got.length === 2, { ...WAIT, name: 'deliveries' });
      expect(errors.map((e) => e.subject)).toEqual(['s', 's']);
    });

    it('delivers messages published from a handler after the ones already queued', async () => {
      const { a, settle } = await make();
      const order: string[] = [];
      a.subscribe('a', () => {
        order.push('a');
        a.publish('b', am({}));
      });
      a.subscribe('b', () => order.push('b'));
      await settle();
      a.publish('a', am({}));
      a.publish('a', am({}));
      await waitFor(() => order.length === 4, { ...WAIT, name: 'four deliveries' });
      expect(order).toEqual(['a', 'a', 'b', 'b']);
    });

    it('bounds a subject\'s queue in messages: the excess is dropped and counted, the rest arrives in order', async () => {
      const { a, metrics, settle } = await make({ limits: { maxSubjectMessages: 10 } });
      const got: number[] = [];
      const other: number[] = [];
      a.subscribe('room.flood', (m) => got.push(num(m)));
      a.subscribe('room.other', (m) => other.push(num(m)));
      await settle();
      for (let n = 0; n < 25; n++) a.publish('room.flood', am({ n }));
      a.publish('room.other', am({ n: 1 })); // another subject has its own budget
      await waitFor(() => other.length === 1, { ...WAIT, name: 'other subject' });
      expect(got).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect(await droppedCount(metrics, 'queue_full')).toBe(15);
      // Once drained, the subject takes messages again.
      a.publish('room.flood', am({ n: 99 }));
      await waitFor(() => got.length === 11, { ...WAIT, name: 'after drain' });
      expect(got[10]).toBe(99);
    });

    it('bounds a subject\'s queue in bytes', async () => {
      const { a, metrics, settle } = await make({ limits: { maxSubjectBytes: 4096 } });
      const got: number[] = [];
      a.subscribe('room.big', (m) => got.push(num(m)));
      await settle();
      subscribeFiller(a);
      await settle();
      fill(a);
      const blob = 'x'.repeat(1000);
      for (let n = 0; n < 10; n++) a.publish('room.big', am({ n, blob }));
      a.publish('room.big', am({ n: 100 })); // small ones still fit
      await waitFor(() => got.includes(100), { ...WAIT, name: 'small message' });
      expect(got.length).toBeGreaterThanOrEqual(3);
      expect(got.length).toBeLessThanOrEqual(5);
      expect(got.slice(0, -1)).toEqual(Array.from({ length: got.length - 1 }, (_, i) => i));
      expect(await droppedCount(metrics, 'queue_full')).toBe(11 - got.length);
    });

    it('charges a server message published to many subjects once, distinct ones each time', async () => {
      const { a, metrics, settle } = await make({ limits: { maxTotalBytes: 64 * 1024 } });
      const got = new Set<string>();
      for (let i = 0; i < 50; i++) a.subscribe(`session.s${i}`, () => got.add(`s${i}`));
      await settle();
      const shared = { type: 'event', event: { target: 'room', type: 'join', join: 'j'.repeat(10_000) } };
      for (let i = 0; i < 50; i++) a.publish(`session.s${i}`, { type: 'message', message: shared });
      await waitFor(() => got.size === 50, { ...WAIT, name: 'shared message to all 50' });
      subscribeFiller(a);
      await settle();
      fill(a);
      for (let i = 0; i < 50; i++) a.publish(`session.s${i}`, { type: 'message', message: { ...shared } });
      await waitFor(async () => (await droppedCount(metrics, 'queue_full')) > 0, { ...WAIT, name: 'distinct copies over budget' });
      expect(await droppedCount(metrics, 'queue_full')).toBeGreaterThan(40);
    });

    it('yields to the event loop during a long burst without losing order', async () => {
      const { a, settle } = await make({ limits: { maxBatch: 8 } });
      const got: number[] = [];
      let timerFired = -1;
      a.subscribe('burst', (m) => got.push(num(m)));
      await settle();
      setImmediate(() => (timerFired = got.length));
      for (let n = 0; n < 100; n++) a.publish('burst', am({ n }));
      await waitFor(() => got.length === 100, { ...WAIT, name: 'burst' });
      expect(got).toEqual(Array.from({ length: 100 }, (_, i) => i));
      expect(timerFired).toBeGreaterThan(0);
      expect(timerFired).toBeLessThan(100);
    });

    it('reports itself as connected', async () => {
      const { a } = await make();
      const info = a.info();
      expect(info.connected).toBe(true);
      expect(info.urls.length).toBeGreaterThan(0);
    });

    it('close() delivers what was published before and nothing after; publish after close does nothing', async () => {
      const { a, settle } = await make();
      const got: unknown[] = [];
      a.subscribe('c', (m) => got.push(m));
      await settle();
      a.publish('c', am({ n: 1 }));
      await a.close();
      expect(got).toEqual([am({ n: 1 })]);
      expect(() => a.publish('c', am({ n: 2 }))).not.toThrow();
      await new Promise((resolve) => setImmediate(resolve));
      expect(got).toHaveLength(1);
      await a.close(); // idempotent
    });
  });
}
