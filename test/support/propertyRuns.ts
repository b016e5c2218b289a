/**
 * fast-check parameters with a fixed seed, so every run tries the same cases
 * and a failure reproduces; FC_SEED and FC_RUNS explore further.
 */
export function propertyRuns(numRuns: number, seed: number): { seed: number; numRuns: number } {
  return { seed: Number(process.env.FC_SEED ?? seed), numRuns: Number(process.env.FC_RUNS ?? numRuns) };
}
