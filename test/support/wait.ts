/** Long enough that nothing here fails on a loaded machine, short enough that a hang fails fast. */
export const WAIT_MS = 5_000;

/** Waits, turn by turn of the event loop, until `condition` holds. */
export async function until(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = WAIT_MS,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}
