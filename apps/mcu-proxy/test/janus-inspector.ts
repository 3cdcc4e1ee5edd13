import { JanusConnection, VIDEOROOM_PLUGIN, type JanusHandle } from '@talk-signaling/janus';

/** A separate Janus client for tests: lists VideoRoom rooms the proxy left in Janus. */
export class JanusInspector {
  private constructor(
    readonly conn: JanusConnection,
    readonly handle: JanusHandle,
  ) {}

  static async connect(url: string): Promise<JanusInspector> {
    const conn = await JanusConnection.connect({ url });
    const session = await conn.createSession();
    return new JanusInspector(conn, await session.attach(VIDEOROOM_PLUGIN));
  }

  /** Rooms with our description pattern (`<publisher id>|video|screen`). */
  async publisherRooms(): Promise<{ room: number; description: string; bitrate: number }[]> {
    const reply = await this.handle.request({ request: 'list' });
    const list = (reply['list'] ?? []) as { room: number; description: string; bitrate: number }[];
    return list.filter((r) => /\|(video|screen)$/.test(r.description));
  }

  async close(): Promise<void> {
    await this.conn.close();
  }
}
