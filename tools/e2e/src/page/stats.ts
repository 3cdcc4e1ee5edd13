import type { InboundStats } from './types';

/** Poll interval for `getStats()` (ms). */
const POLL_MS = 100;

interface StatsEntry {
  type?: string;
  id?: string;
  kind?: string;
  framesDecoded?: number;
  packetsReceived?: number;
  selectedCandidatePairId?: string;
  localCandidateId?: string;
  remoteCandidateId?: string;
  address?: string;
  port?: number;
  candidateType?: string;
}

/** Sums the inbound-rtp counters of one `getStats()` report and names the selected pair. */
export function inboundCounters(report: RTCStatsReport): Omit<InboundStats, 'pollMs'> {
  const out: Omit<InboundStats, 'pollMs'> = { videoFramesDecoded: 0, videoPacketsReceived: 0, audioPacketsReceived: 0 };
  const byId = new Map<string, StatsEntry>();
  report.forEach((entry: StatsEntry) => {
    if (entry.id !== undefined) byId.set(entry.id, entry);
    if (entry.type !== 'inbound-rtp') return;
    if (entry.kind === 'video') {
      out.videoFramesDecoded += entry.framesDecoded ?? 0;
      out.videoPacketsReceived += entry.packetsReceived ?? 0;
    } else if (entry.kind === 'audio') {
      out.audioPacketsReceived += entry.packetsReceived ?? 0;
    }
  });
  const describe = (id: string | undefined): string | undefined => {
    const c = id === undefined ? undefined : byId.get(id);
    return c === undefined ? undefined : `${c.address}:${c.port} (${c.candidateType})`;
  };
  for (const entry of byId.values()) {
    if (entry.type !== 'transport' || entry.selectedCandidatePairId === undefined) continue;
    const pair = byId.get(entry.selectedCandidatePairId);
    const local = describe(pair?.localCandidateId);
    const remote = describe(pair?.remoteCandidateId);
    if (local !== undefined) out.localCandidate = local;
    if (remote !== undefined) out.remoteCandidate = remote;
  }
  return out;
}

/**
 * Polls `pc.getStats()` until `minFrames` video frames were decoded and (`withAudio`) audio packets received; `progress`
 * sees every intermediate reading. The caller (the runner) bounds the wait.
 */
export async function pollInboundStats(pc: RTCPeerConnection, until: { withAudio: boolean; minFrames: number }, progress: (s: InboundStats) => void): Promise<InboundStats> {
  const start = Date.now();
  for (;;) {
    const counters = inboundCounters(await pc.getStats());
    const reading = { ...counters, pollMs: Date.now() - start };
    progress(reading);
    if (counters.videoFramesDecoded >= until.minFrames && (!until.withAudio || counters.audioPacketsReceived > 0)) return reading;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
