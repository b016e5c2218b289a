// @ts-check
/**
 * Places a machine graph with elkjs: ELK's layered algorithm with
 * INCLUDE_CHILDREN lays out nested states as compound nodes and routes
 * transitions across levels in one pass, the way the Stately visualizer
 * draws charts. Box and label sizes come from the text they hold, measured
 * in the font the SVG uses, so nothing overlaps and no coordinate is written
 * by hand: a changed machine simply draws differently.
 */

/** @typedef {import('./machineGraph.js').MachineGraph} MachineGraph */
/** @typedef {import('./machineGraph.js').StateNodeModel} StateNodeModel */
/** @typedef {import('elkjs/lib/elk-api').ElkNode} ElkNode */
/** @typedef {import('elkjs/lib/elk-api').ElkExtendedEdge} ElkExtendedEdge */
/** @typedef {import('elkjs/lib/elk-api').ELK} ElkApi */

/** Text styles of the drawing; chartSvg.js draws with the same ones. */
export const FONTS = {
  title: '600 13px system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif',
  tag: '10px system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif',
  note: '11px ui-monospace, "SFMono-Regular", Menlo, Consolas, "Liberation Mono", monospace',
  label: '11px system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif',
};

export const METRICS = {
  padX: 10,
  titleTop: 8,
  titleHeight: 16,
  tagHeight: 16,
  tagGap: 4,
  tagPadX: 5,
  noteHeight: 14,
  bottom: 8,
  childPad: 14,
  labelLine: 14,
  labelPad: 4,
  initialSize: 12,
};

/** @typedef {(text: string, font: string) => number} Measure */

/**
 * @typedef {object} PlacedState
 * @property {StateNodeModel} state
 * @property {number} x
 * @property {number} y
 * @property {number} width
 * @property {number} height
 */

/**
 * @typedef {object} PlacedEdge
 * @property {string} id transition id, or `initial:<parent id>`
 * @property {string} sourceId
 * @property {string} targetId
 * @property {{ x: number, y: number }[]} points
 * @property {{ x: number, y: number, width: number, height: number, lines: string[] } | undefined} label
 */

/**
 * @typedef {object} ChartLayout
 * @property {number} width
 * @property {number} height
 * @property {PlacedState[]} states parents before children
 * @property {{ parentId: string, x: number, y: number, size: number }[]} initials
 * @property {PlacedEdge[]} edges
 */

/** @typedef {{ layout: (graph: ElkNode) => Promise<ElkNode> }} Layouter */

/** @type {Promise<Layouter> | undefined} */
let layouter;

/**
 * elkjs in a worker (chart/elkWorker.js) where the browser has workers, so
 * laying out never blocks the page; otherwise (Node, in the unit tests) on
 * the calling thread.
 * @returns {Promise<Layouter>}
 */
function elkInstance() {
  layouter ??= typeof Worker === 'function' && typeof document !== 'undefined' ? workerLayouter() : mainThreadElk();
  return layouter;
}

/** @returns {Promise<Layouter>} */
async function workerLayouter() {
  let worker;
  try {
    worker = new Worker(new URL('./elkWorker.js', import.meta.url));
  } catch {
    return mainThreadElk();
  }
  /** @type {Map<number, { resolve: (graph: ElkNode) => void, reject: (error: Error) => void }>} */
  const pending = new Map();
  let nextId = 1;
  let failed = false;
  worker.addEventListener('message', (event) => {
    const { id, graph, error } = event.data;
    const request = pending.get(id);
    pending.delete(id);
    if (error) request?.reject(new Error(error));
    else request?.resolve(graph);
  });
  worker.addEventListener('error', (event) => {
    // A worker that cannot load elkjs: fail what waits; later layouts use the page's own elkjs.
    event.preventDefault();
    failed = true;
    for (const request of pending.values())
      request.reject(new Error(`the layout worker failed: ${event.message || 'could not load elkjs'}`));
    pending.clear();
  });
  return {
    layout: (graph) => {
      if (failed) return mainThreadElk().then((elk) => elk.layout(graph));
      return new Promise((resolve, reject) => {
        const id = nextId++;
        pending.set(id, { resolve, reject });
        worker.postMessage({ id, graph });
      });
    },
  };
}

/**
 * elkjs from the page's classic script (elk.bundled.js defines the global ELK),
 * which may still be loading: the page's modules do not wait for it.
 * @returns {Promise<Layouter>}
 */
function mainThreadElk() {
  return new Promise((resolve, reject) => {
    const create = () => {
      const ELK = /** @type {any} */ (globalThis).ELK;
      // Without a worker URL the bundled build lays out on the calling thread.
      if (ELK) resolve(/** @type {ElkApi} */ (new ELK()));
      else reject(new Error('elkjs is not loaded (/console/vendor/elk.bundled.js)'));
    };
    if (/** @type {any} */ (globalThis).ELK) {
      create();
      return;
    }
    const script = document.querySelector('script[src$="elk.bundled.js"]');
    if (!script) {
      create();
      return;
    }
    script.addEventListener('load', create, { once: true });
    script.addEventListener('error', create, { once: true });
  });
}

/** @returns {Measure} text widths from a canvas, in the chart's fonts */
export function canvasMeasure() {
  const context = document.createElement('canvas').getContext('2d');
  /** @type {Map<string, number>} */
  const cache = new Map();
  return (text, font) => {
    const key = `${font}|${text}`;
    let width = cache.get(key);
    if (width === undefined) {
      if (context) {
        context.font = font;
        width = Math.ceil(context.measureText(text).width);
      } else {
        width = text.length * 7;
      }
      cache.set(key, width);
    }
    return width;
  };
}

/**
 * The header of a state box: title, tags, notes; children go below it.
 * @param {StateNodeModel} state
 * @param {Measure} measure
 */
export function headerOf(state, measure) {
  const m = METRICS;
  const title = state.kind === 'machine' ? state.id : state.key;
  let width = measure(title, FONTS.title);
  const tagsWidth = state.tags.reduce((sum, tag) => sum + measure(tag, FONTS.tag) + 2 * m.tagPadX + m.tagGap, 0);
  width = Math.max(width, tagsWidth);
  for (const note of state.notes) width = Math.max(width, measure(note, FONTS.note));
  const height =
    m.titleTop +
    m.titleHeight +
    (state.tags.length ? m.tagHeight + 2 : 0) +
    state.notes.length * m.noteHeight +
    m.bottom;
  return { title, width: width + 2 * m.padX, height };
}

/**
 * @param {MachineGraph} graph
 * @param {Measure} measure
 * @param {{ direction?: 'RIGHT' | 'DOWN', layoutOptions?: Record<string, string>, labelOptions?: Record<string, string> }} [options]
 *   `layoutOptions` / `labelOptions` add to or override the ELK options of the graphs / edge labels
 * @returns {Promise<ChartLayout>}
 */
export async function layoutChart(graph, measure, options = {}) {
  const m = METRICS;
  // One layered run over the whole hierarchy, in the order the machine lists
  // its states. Set on the root only: nested nodes inherit the hierarchy
  // handling (and elkjs 0.12 fails when they repeat it with a model order).
  /** @type {Record<string, string>} */
  const rootOptions = {
    'elk.algorithm': 'layered',
    'elk.hierarchyHandling': 'INCLUDE_CHILDREN',
    'elk.layered.considerModelOrder.strategy': 'NODES_AND_EDGES',
    'elk.json.edgeCoords': 'ROOT',
    'elk.json.shapeCoords': 'ROOT',
  };
  // Spacing and routing are properties of each graph level, so every compound
  // state carries them too, not just the root.
  /** @type {Record<string, string>} */
  const graphOptions = {
    'elk.direction': options.direction ?? 'DOWN',
    'elk.edgeRouting': 'ORTHOGONAL',
    'elk.layered.spacing.nodeNodeBetweenLayers': '36',
    'elk.layered.spacing.edgeNodeBetweenLayers': '14',
    'elk.layered.spacing.edgeEdgeBetweenLayers': '10',
    'elk.spacing.nodeNode': '22',
    'elk.spacing.edgeNode': '14',
    'elk.spacing.edgeEdge': '10',
    'elk.spacing.edgeLabel': '3',
    'elk.spacing.labelNode': '6',
    'elk.padding': '[top=4,left=4,bottom=4,right=4]',
    ...options.layoutOptions,
  };
  /** @type {Record<string, string>} */
  const labelOptions = { 'elk.edgeLabels.placement': 'CENTER', ...options.labelOptions };
  /** @type {Map<string, ElkNode>} */
  const elkNodes = new Map();
  /** @type {Map<string, string[]>} label lines per edge id */
  const labelLines = new Map();

  /** @param {StateNodeModel} state */
  const nodeOf = (state) => {
    const header = headerOf(state, measure);
    /** @type {ElkNode} */
    const node = { id: state.id, children: [], edges: [] };
    if (state.childIds.length > 0) {
      node.layoutOptions = {
        ...graphOptions,
        'elk.padding': `[top=${header.height},left=${m.childPad},bottom=${m.childPad},right=${m.childPad}]`,
        'elk.nodeSize.constraints': '[MINIMUM_SIZE]',
        'elk.nodeSize.minimum': `(${header.width}, ${header.height + 20})`,
      };
    } else {
      node.width = Math.max(header.width, 96);
      node.height = Math.max(header.height, 40);
    }
    elkNodes.set(state.id, node);
    for (const childId of state.childIds) {
      const child = graph.states.get(childId);
      if (child) node.children?.push(nodeOf(child));
    }
    if (state.initialId) {
      node.children?.push({ id: `initial:${state.id}`, width: m.initialSize, height: m.initialSize });
    }
    return node;
  };

  const machine = graph.states.get(graph.machineId);
  if (!machine) throw new Error(`machine ${graph.machineId} has no root state`);
  const machineNode = nodeOf(machine);

  /**
   * ELK wants an edge inside the innermost node that contains both ends.
   * @param {string} sourceId
   * @param {string} targetId
   */
  const containerOf = (sourceId, targetId) => {
    const chain = (/** @type {string} */ id) => {
      /** @type {string[]} */
      const ids = [];
      let state = graph.states.get(id)?.parentId ?? null;
      while (state) {
        ids.push(state);
        state = graph.states.get(state)?.parentId ?? null;
      }
      return ids;
    };
    const targetParents = new Set(chain(targetId));
    if (sourceId === targetId) return elkNodes.get(chain(sourceId)[0] ?? graph.machineId);
    for (const id of chain(sourceId)) {
      if (targetParents.has(id) || id === targetId) return elkNodes.get(id);
    }
    return machineNode;
  };

  for (const state of graph.states.values()) {
    if (!state.initialId) continue;
    /** @type {ElkExtendedEdge} */
    const edge = { id: `initial:${state.id}`, sources: [`initial:${state.id}`], targets: [state.initialId] };
    elkNodes.get(state.id)?.edges?.push(edge);
  }
  for (const transition of graph.transitions) {
    const lines = [transition.label];
    if (transition.guard) lines.push(`[${transition.guard}]`);
    labelLines.set(transition.id, lines);
    const width = Math.max(...lines.map((line) => measure(line, FONTS.label))) + 2 * m.labelPad;
    const height = lines.length * m.labelLine + 2;
    /** @type {ElkExtendedEdge} */
    const edge = {
      id: transition.id,
      sources: [transition.sourceId],
      targets: [transition.targetId],
      labels: [{ id: `${transition.id}:label`, text: lines.join('\n'), width, height, layoutOptions: labelOptions }],
    };
    containerOf(transition.sourceId, transition.targetId)?.edges?.push(edge);
  }

  /** @type {ElkNode} */
  const root = { id: '__root', layoutOptions: { ...rootOptions, ...graphOptions }, children: [machineNode], edges: [] };

  const laidOut = await (await elkInstance()).layout(root);

  /** @type {PlacedState[]} */
  const states = [];
  /** @type {ChartLayout['initials']} */
  const initials = [];
  /** @type {PlacedEdge[]} */
  const edges = [];
  /** @param {ElkNode} node */
  const collect = (node) => {
    for (const child of node.children ?? []) {
      const box = { x: child.x ?? 0, y: child.y ?? 0, width: child.width ?? 0, height: child.height ?? 0 };
      if (child.id.startsWith('initial:')) {
        initials.push({ parentId: child.id.slice('initial:'.length), x: box.x, y: box.y, size: box.width });
      } else {
        const state = graph.states.get(child.id);
        if (state) states.push({ state, ...box });
      }
      collect(child);
    }
    for (const edge of /** @type {ElkExtendedEdge[]} */ (node.edges ?? [])) {
      /** @type {{ x: number, y: number }[]} */
      const points = [];
      for (const section of edge.sections ?? []) {
        if (points.length === 0) points.push(section.startPoint);
        points.push(...(section.bendPoints ?? []), section.endPoint);
      }
      const label = edge.labels?.[0];
      const source = edge.sources[0] ?? '';
      edges.push({
        id: edge.id,
        sourceId: source,
        targetId: edge.targets[0] ?? '',
        points,
        label: label
          ? {
              x: label.x ?? 0,
              y: label.y ?? 0,
              width: label.width ?? 0,
              height: label.height ?? 0,
              lines: labelLines.get(edge.id) ?? [],
            }
          : undefined,
      });
    }
  };
  collect(laidOut);
  return { width: laidOut.width ?? 0, height: laidOut.height ?? 0, states, initials, edges };
}
