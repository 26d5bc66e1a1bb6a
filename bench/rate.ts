/** Runs `work` from `concurrency` loops for the given time; answers completions per second. */
export async function rate(
  concurrency: number,
  seconds: number,
  work: () => Promise<unknown>,
): Promise<number> {
  const started = performance.now();
  const deadline = started + seconds * 1_000;
  let done = 0;
  const loop = async () => {
    while (performance.now() < deadline) {
      await work();
      done++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  return done / ((performance.now() - started) / 1_000);
}
