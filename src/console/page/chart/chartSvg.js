// @ts-check
/**
 * Draws a placed chart as SVG and keeps it live: `setActive` lights the
 * active states (class `active`, parents included) and the arrows that can
 * leave them, `flash` marks the arrow a transition just took and the state it
 * entered. Only classes change after the first drawing; the look is in
 * console.css.
 */
import { s } from '../lib/dom.js';
import { FONTS, METRICS, headerOf } from './chartLayout.js';

/** @typedef {import('./chartLayout.js').ChartLayout} ChartLayout */
/** @typedef {import('./chartLayout.js').Measure} Measure */
/** @typedef {import('./machineGraph.js').MachineGraph} MachineGraph */

export class ChartSvg {
  /** @type {Map<string, SVGGElement>} */
  #stateElements = new Map();
  /** @type {Map<string, SVGGElement[]>} edge and label groups per transition id */
  #edgeElements = new Map();
  /** @type {Map<string, string>} source state per transition id */
  #edgeSources = new Map();
  /** @type {Set<string>} */
  #active = new Set();
  #flashParity = false;

  /**
   * @param {MachineGraph} graph
   * @param {ChartLayout} layout
   * @param {Measure} measure
   */
  constructor(graph, layout, measure) {
    this.graph = graph;
    const markerId = `arrow-${graph.machineId}`;
    const width = Math.ceil(layout.width);
    const height = Math.ceil(layout.height);
    this.element = s('svg', {
      class: 'chart-svg',
      viewBox: `0 0 ${width} ${height}`,
      width,
      height,
      role: 'img',
      'aria-label': `${graph.machineId} statechart`,
    });
    this.element.append(
      s('defs', {}, [
        s(
          'marker',
          {
            id: markerId,
            viewBox: '0 0 10 10',
            refX: 9,
            refY: 5,
            markerWidth: 7,
            markerHeight: 7,
            orient: 'auto-start-reverse',
            class: 'arrowhead',
          },
          [s('path', { d: 'M0,0 L10,5 L0,10 z' })],
        ),
      ]),
    );

    const statesLayer = s('g', { class: 'states' });
    for (const placed of layout.states) {
      const group = this.#drawState(placed, measure);
      this.#stateElements.set(placed.state.id, group);
      statesLayer.append(group);
    }
    const edgesLayer = s('g', { class: 'edges' });
    const labelsLayer = s('g', { class: 'edge-labels' });
    for (const edge of layout.edges) {
      const transition = graph.transitions.find((t) => t.id === edge.id);
      const isInitial = edge.id.startsWith('initial:');
      const group = s(
        'g',
        {
          class: isInitial ? 'edge initial' : `edge kind-${transition?.kind ?? 'event'}`,
          'data-transition-id': edge.id,
        },
        [
          s('title', {}, [transition ? describeTransition(transition) : 'initial state']),
          s('path', { class: 'edge-path', d: roundedPath(edge.points, 6), 'marker-end': `url(#${markerId})` }),
        ],
      );
      edgesLayer.append(group);
      /** @type {SVGGElement[]} */
      const parts = [group];
      if (edge.label && edge.label.lines.length > 0) {
        const { x, y, width: w, height: h, lines } = edge.label;
        const label = s(
          'g',
          { class: `edge-label kind-${transition?.kind ?? 'event'}`, 'data-transition-id': edge.id },
          [
            s('title', {}, [transition ? describeTransition(transition) : '']),
            s('rect', { x, y, width: w, height: h, rx: 3 }),
            ...lines.map((line, i) =>
              s(
                'text',
                {
                  x: x + w / 2,
                  y: y + METRICS.labelLine * (i + 1) - 2,
                  'text-anchor': 'middle',
                  class: i === 0 ? 'label-event' : 'label-guard',
                },
                [line],
              ),
            ),
          ],
        );
        labelsLayer.append(label);
        parts.push(label);
      }
      this.#edgeElements.set(edge.id, parts);
      this.#edgeSources.set(edge.id, isInitial ? edge.id.slice('initial:'.length) : (transition?.sourceId ?? ''));
    }
    const initialsLayer = s('g', { class: 'initials' });
    for (const initial of layout.initials) {
      const r = initial.size / 2;
      initialsLayer.append(
        s('circle', { class: 'initial-dot', cx: initial.x + r, cy: initial.y + r, r: r - 1 }, [
          s('title', {}, ['initial state']),
        ]),
      );
    }
    this.element.append(statesLayer, edgesLayer, initialsLayer, labelsLayer);
  }

  /**
   * @param {import('./chartLayout.js').PlacedState} placed
   * @param {Measure} measure
   */
  #drawState(placed, measure) {
    const { state, x, y, width, height } = placed;
    const m = METRICS;
    const header = headerOf(state, measure);
    const group = s('g', { class: `state kind-${state.kind}`, 'data-state-id': state.id });
    const tooltip = [
      state.id,
      state.description,
      state.tags.length ? `tags: ${state.tags.join(', ')}` : '',
      state.kind === 'final' ? 'final state' : '',
    ]
      .filter(Boolean)
      .join('\n');
    group.append(s('title', {}, [tooltip]));
    group.append(s('rect', { class: 'state-box', x, y, width, height, rx: 8 }));
    if (state.kind === 'final') {
      // A final state is drawn with a double border, as in UML and the Stately visualizer.
      group.append(
        s('rect', { class: 'state-final-ring', x: x + 3, y: y + 3, width: width - 6, height: height - 6, rx: 6 }),
      );
    }
    let lineY = y + m.titleTop + 12;
    group.append(s('text', { class: 'state-title', x: x + m.padX, y: lineY }, [header.title]));
    lineY += 4;
    if (state.tags.length > 0) {
      let tagX = x + m.padX;
      for (const tag of state.tags) {
        const tagWidth = measure(tag, FONTS.tag) + 2 * m.tagPadX;
        group.append(
          s('g', { class: `state-tag tag-${tag}` }, [
            s('rect', { x: tagX, y: lineY + 1, width: tagWidth, height: m.tagHeight - 3, rx: 6 }),
            s('text', { x: tagX + m.tagPadX, y: lineY + m.tagHeight - 5 }, [tag]),
          ]),
        );
        tagX += tagWidth + m.tagGap;
      }
      lineY += m.tagHeight + 2;
    }
    for (const note of state.notes) {
      lineY += m.noteHeight;
      group.append(s('text', { class: 'state-note', x: x + m.padX, y: lineY - 3 }, [note]));
    }
    return group;
  }

  /**
   * @param {string[]} stateIds every active state, parents included
   */
  setActive(stateIds) {
    const next = new Set(stateIds);
    for (const [id, element] of this.#stateElements) {
      const on = next.has(id);
      if (on !== this.#active.has(id)) element.classList.toggle('active', on);
    }
    for (const [id, parts] of this.#edgeElements) {
      const source = this.#edgeSources.get(id) ?? '';
      const enabled = next.has(source) && !id.startsWith('initial:');
      for (const part of parts) part.classList.toggle('enabled', enabled);
    }
    this.#active = next;
  }

  /**
   * Marks what a transition just did. The animation restarts by switching
   * between two identical animations, so back-to-back transitions each show.
   * @param {string[]} transitionIds
   * @param {string | undefined} enteredStateId
   */
  flash(transitionIds, enteredStateId) {
    this.#flashParity = !this.#flashParity;
    const [on, off] = this.#flashParity ? ['flash-a', 'flash-b'] : ['flash-b', 'flash-a'];
    for (const id of transitionIds) {
      for (const part of this.#edgeElements.get(id) ?? []) {
        part.classList.remove(off);
        part.classList.add(on);
      }
    }
    const entered = enteredStateId ? this.#stateElements.get(enteredStateId) : undefined;
    if (entered) {
      entered.classList.remove(off);
      entered.classList.add(on);
    }
  }
}

/** @param {import('./machineGraph.js').TransitionModel} t */
function describeTransition(t) {
  const parts = [`${t.label}${t.guard ? ` [${t.guard}]` : ''}`, `${t.sourceId} -> ${t.targetId}`];
  if (t.actions.length > 0) parts.push(`actions: ${t.actions.join(', ')}`);
  if (t.reenter) parts.push('re-enters the state (restarts its timers)');
  return parts.join('\n');
}

/**
 * An orthogonal polyline with its corners rounded.
 * @param {{ x: number, y: number }[]} points
 * @param {number} radius
 */
function roundedPath(points, radius) {
  if (points.length === 0) return '';
  const first = points[0];
  if (!first) return '';
  let d = `M${first.x},${first.y}`;
  for (let i = 1; i < points.length; i++) {
    const point = points[i];
    const previous = points[i - 1];
    const next = points[i + 1];
    if (!point || !previous) continue;
    if (!next) {
      d += ` L${point.x},${point.y}`;
      continue;
    }
    const r = Math.min(radius, distance(previous, point) / 2, distance(point, next) / 2);
    const before = towards(point, previous, r);
    const after = towards(point, next, r);
    d += ` L${before.x},${before.y} Q${point.x},${point.y} ${after.x},${after.y}`;
  }
  return d;
}

/**
 * @param {{ x: number, y: number }} a
 * @param {{ x: number, y: number }} b
 */
function distance(a, b) {
  return Math.hypot(a.x - b.x, a.y - b.y);
}

/**
 * The point `length` away from `from` in the direction of `to`.
 * @param {{ x: number, y: number }} from
 * @param {{ x: number, y: number }} to
 * @param {number} length
 */
function towards(from, to, length) {
  const d = distance(from, to) || 1;
  return { x: from.x + ((to.x - from.x) * length) / d, y: from.y + ((to.y - from.y) * length) / d };
}
