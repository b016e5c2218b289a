// @ts-check
/**
 * A classic worker that lays out charts with elkjs, so the page's main thread
 * stays free while a chart is placed (a second or more on a busy machine).
 * It loads the same elk.bundled.js the page would; the request and answer are
 * ELK's JSON graph.
 */
const scope = /** @type {any} */ (globalThis);
scope.importScripts('/console/vendor/elk.bundled.js');
// Inside this worker, ELK without a worker URL lays out on this thread.
const elk = new scope.ELK();

scope.onmessage = async (/** @type {MessageEvent<{ id: number, graph: unknown }>} */ event) => {
  const { id, graph } = event.data;
  try {
    scope.postMessage({ id, graph: await elk.layout(graph) });
  } catch (error) {
    scope.postMessage({ id, error: error instanceof Error ? error.message : String(error) });
  }
};
