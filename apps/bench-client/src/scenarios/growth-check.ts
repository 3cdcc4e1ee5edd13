// Whether a soak's memory keeps growing: after a warm-up, the median of the last third of the
// samples is compared with the median of the first third. Medians, because a garbage-collected
// heap saw-tooths; thirds, because a leak shows as a rising level, not as single peaks.
import type { MemorySample } from '../memory-probe';

export interface GrowthLimits {
  /** Samples before this (ms since the start) are the warm-up and not judged. */
  warmupMs: number;
  /** Largest acceptable rise of the RSS level (MiB); the heap may rise half as much. */
  maxGrowthMiB: number;
}

export interface GrowthVerdict {
  /** False when there were too few samples after the warm-up to say anything. */
  judged: boolean;
  growing: boolean;
  rssGrowthMiB?: number;
  heapGrowthMiB?: number;
  reason: string;
}

/** Fewest samples after the warm-up for a verdict (two per third). */
const MIN_SAMPLES = 6;

export function judgeGrowth(samples: readonly MemorySample[], limits: GrowthLimits): GrowthVerdict {
  const judged = samples.filter((s) => s.atMs >= limits.warmupMs);
  if (judged.length < MIN_SAMPLES) {
    return { judged: false, growing: false, reason: `too short to judge (${judged.length} samples after the warm-up, need ${MIN_SAMPLES})` };
  }
  const third = Math.floor(judged.length / 3);
  const first = judged.slice(0, third);
  const last = judged.slice(judged.length - third);
  const rssGrowthMiB = round(median(last.map((s) => s.rssMiB)) - median(first.map((s) => s.rssMiB)));
  const heapFirst = first.flatMap((s) => (s.heapMiB === undefined ? [] : [s.heapMiB]));
  const heapLast = last.flatMap((s) => (s.heapMiB === undefined ? [] : [s.heapMiB]));
  const heapGrowthMiB = heapFirst.length > 0 && heapLast.length > 0 ? round(median(heapLast) - median(heapFirst)) : undefined;
  const problems: string[] = [];
  if (rssGrowthMiB > limits.maxGrowthMiB) problems.push(`RSS level rose by ${rssGrowthMiB} MiB (limit ${limits.maxGrowthMiB})`);
  if (heapGrowthMiB !== undefined && heapGrowthMiB > limits.maxGrowthMiB / 2) {
    problems.push(`heap level rose by ${heapGrowthMiB} MiB (limit ${limits.maxGrowthMiB / 2})`);
  }
  return {
    judged: true,
    growing: problems.length > 0,
    rssGrowthMiB,
    ...(heapGrowthMiB !== undefined ? { heapGrowthMiB } : {}),
    reason: problems.length > 0 ? problems.join('; ') : 'memory level stable',
  };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
