// @ts-check
/**
 * Rendering at most once per animation frame. Stream messages update the
 * models at once (cheap) and ask for a render; however many of them arrive
 * within a frame (200 transitions/s is 3-4 per frame), each panel draws once.
 */
export class FrameLoop {
  /** @type {Set<() => void>} */
  #pending = new Set();
  #scheduled = false;

  /** @param {() => void} render the same function asked for twice in a frame runs once */
  request(render) {
    this.#pending.add(render);
    if (this.#scheduled) return;
    this.#scheduled = true;
    requestAnimationFrame(() => this.#run());
  }

  #run() {
    this.#scheduled = false;
    const renders = [...this.#pending];
    this.#pending.clear();
    for (const render of renders) {
      try {
        render();
      } catch (error) {
        // One broken panel must not stop the others; the error still surfaces as uncaught.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }
}
