/**
 * Settings for the property-based fuzz tests (fast-check). `npm test` runs a few runs per
 * property with a fixed seed (same inputs every time, a few seconds in all); the long mode is
 * `FUZZ_RUNS=10000` (then with a random seed unless `FUZZ_SEED` is given; fast-check prints the
 * seed and the shrunk counterexample of a failure, and `FUZZ_SEED=<seed>` replays it).
 */
export interface FuzzParameters {
  numRuns: number;
  seed: number | undefined;
  /** fast-check's own per-run timeout is not used: tests have their own deadlines. */
  endOnFailure: true;
}

/** Seed of the short runs in `npm test`. */
const DEFAULT_FUZZ_SEED = 20_261_207;

/** Runs per property: `FUZZ_RUNS` when set, else `defaultRuns`. */
export function fuzzRuns(defaultRuns: number): number {
  const env = Number(process.env['FUZZ_RUNS']);
  return Number.isInteger(env) && env > 0 ? env : defaultRuns;
}

/** fast-check `assert` parameters for one property (see the module comment). */
export function fuzzParameters(defaultRuns: number): FuzzParameters {
  const long = process.env['FUZZ_RUNS'] !== undefined;
  const seedEnv = process.env['FUZZ_SEED'];
  const seed = seedEnv !== undefined && seedEnv !== '' ? Number(seedEnv) : long ? undefined : DEFAULT_FUZZ_SEED;
  return { numRuns: fuzzRuns(defaultRuns), seed, endOnFailure: true };
}

/** A test timeout that grows with the number of runs (ms per run, plus a base). */
export function fuzzTimeout(defaultRuns: number, msPerRun: number, baseMs = 10_000): number {
  return baseMs + fuzzRuns(defaultRuns) * msPerRun;
}
