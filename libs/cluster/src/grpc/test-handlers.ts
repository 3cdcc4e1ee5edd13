// Test-only helpers shared by the gRPC specs (not exported from the lib).
import type { ClusterHandlers, InternalSessionInfo, PublisherInfo, TransientEntry, VirtualSessionInfo } from './cluster-handlers';
import type { ProxySessionStream } from './proxy-session-stream';

/** An in-memory node state that answers like a hub would; tests fill its maps. */
export class TestHandlers implements ClusterHandlers {
  resumeIds = new Map<string, string>();
  roomSessions = new Map<string, string>();
  disconnected: { sessionId: string; reason: string }[] = [];
  inCall = new Map<string, boolean>();
  internal = new Map<string, { internal: InternalSessionInfo[]; virtual: VirtualSessionInfo[] }>();
  counts = new Map<string, number>();
  transient = new Map<string, Record<string, TransientEntry>>();
  publishers = new Map<string, PublisherInfo>();
  /** Requests seen, for assertions on what travelled. */
  seen: unknown[][] = [];
  proxied: ProxySessionStream[] = [];
  publisherWaitAborted = 0;

  lookupResumeId(resumeId: string): string | undefined {
    this.seen.push(['lookupResumeId', resumeId]);
    return this.resumeIds.get(resumeId);
  }

  lookupSessionId(roomSessionId: string, disconnectReason: string): string | undefined {
    const sessionId = this.roomSessions.get(roomSessionId);
    if (sessionId !== undefined && disconnectReason !== '') this.disconnected.push({ sessionId, reason: disconnectReason });
    return sessionId;
  }

  isSessionInCall(sessionId: string, roomId: string, backendUrl: string): boolean | undefined {
    this.seen.push(['isSessionInCall', sessionId, roomId, backendUrl]);
    return this.inCall.get(sessionId);
  }

  getInternalSessions(roomId: string, backendUrls: string[]): { internal: InternalSessionInfo[]; virtual: VirtualSessionInfo[] } | undefined {
    this.seen.push(['getInternalSessions', roomId, backendUrls]);
    return this.internal.get(roomId);
  }

  getSessionCount(url: string): number | undefined {
    if (url === 'throw') throw new Error('handler bug');
    return this.counts.get(url);
  }

  getTransientData(roomId: string, backendUrls: string[]): Record<string, TransientEntry> | undefined {
    this.seen.push(['getTransientData', roomId, backendUrls]);
    return this.transient.get(roomId);
  }

  getPublisherId(sessionId: string, streamType: string, signal: AbortSignal): Promise<PublisherInfo | undefined> {
    const found = this.publishers.get(`${sessionId}/${streamType}`);
    if (found !== undefined || sessionId !== 'wait') return Promise.resolve(found);
    // Waits until the caller's deadline cancels the call.
    return new Promise((resolve) => {
      signal.addEventListener('abort', () => {
        this.publisherWaitAborted++;
        resolve(undefined);
      });
    });
  }

  proxySession(stream: ProxySessionStream): void {
    this.proxied.push(stream);
    if (stream.info.sessionId === 'unknown') {
      stream.fail('not_found', 'no such session');
      return;
    }
    // Echo each message back with a prefix, like a hub answering a client.
    stream.on('message', (msg) => stream.send(`echo:${msg.toString()}`));
  }
}
