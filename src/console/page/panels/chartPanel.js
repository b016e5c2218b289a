// @ts-check
/**
 * One statechart on the page: fetched from /machines/<id>, laid out once,
 * then only re-lit. A click on a state shows its description below.
 */
import { h, setText } from '../lib/dom.js';
import { errorMessage } from '../lib/format.js';
import { canvasMeasure, layoutChart } from '../chart/chartLayout.js';
import { ChartSvg } from '../chart/chartSvg.js';
import { activeStateIds, machineGraph } from '../chart/machineGraph.js';
import { matchTransition } from '../chart/transitionMatch.js';

/** @typedef {import('../chart/machineGraph.js').MachineGraph} MachineGraph */

export class ChartPanel {
  /** @type {ChartSvg | undefined} */
  #svg;
  /** @type {MachineGraph | undefined} */
  #graph;
  /** @type {string | null} */
  #value = null;
  /** @type {{ from: string | null, to: string, event: string }[]} */
  #pendingFlashes = [];

  /**
   * @param {object} options
   * @param {string} options.machineId
   * @param {HTMLElement} options.container
   * @param {HTMLElement} options.caption
   * @param {'RIGHT' | 'DOWN'} [options.direction]
   */
  constructor({ machineId, container, caption, direction }) {
    this.machineId = machineId;
    this.container = container;
    this.caption = caption;
    this.direction = direction;
    container.addEventListener('click', (event) => {
      const target = /** @type {Element | null} */ (event.target);
      const state = target?.closest('[data-state-id]');
      const id = state?.getAttribute('data-state-id');
      const node = id ? this.#graph?.states.get(id) : undefined;
      if (!node) return;
      const tags = node.tags.length ? ` Tags: ${node.tags.join(', ')}.` : '';
      setText(
        this.caption,
        `${node.id}: ${node.description ?? 'no description'}${tags}${node.kind === 'final' ? ' Final state.' : ''}`,
      );
    });
  }

  /** Fetches and draws the chart; a failure is shown in the panel. */
  async load() {
    try {
      const response = await fetch(`/machines/${encodeURIComponent(this.machineId)}`, {
        headers: { accept: 'application/json' },
      });
      if (!response.ok) throw new Error(`GET /machines/${this.machineId} answered ${response.status}`);
      const graph = machineGraph(await response.json());
      const measure = canvasMeasure();
      const layout = await layoutChart(graph, measure, { direction: this.direction });
      this.#graph = graph;
      this.#svg = new ChartSvg(graph, layout, measure);
      this.container.replaceChildren(this.#svg.element);
      this.#svg.setActive(this.#value === null ? [] : activeStateIds(graph.machineId, this.#value));
      this.#applyFlashes();
    } catch (error) {
      this.container.replaceChildren(
        h('p', { class: 'problem' }, [`cannot draw ${this.machineId}: ${errorMessage(error)}`]),
      );
    }
  }

  /**
   * @param {string | null} value dotted state (`waiting.holding`), null for none
   */
  show(value) {
    if (value === this.#value) return;
    this.#value = value;
    if (this.#svg && this.#graph)
      this.#svg.setActive(value === null ? [] : activeStateIds(this.#graph.machineId, value));
  }

  /**
   * Marks the arrow a transition took (drawn at the next render).
   * @param {{ from: string | null, to: string, event: string }} step
   */
  flash(step) {
    this.#pendingFlashes.push(step);
    if (this.#pendingFlashes.length > 4) this.#pendingFlashes.shift();
    this.#applyFlashes();
  }

  #applyFlashes() {
    const svg = this.#svg;
    const graph = this.#graph;
    if (!svg || !graph) return;
    for (const step of this.#pendingFlashes) {
      svg.flash(matchTransition(graph, step), `${graph.machineId}.${step.to}`);
    }
    this.#pendingFlashes = [];
  }
}
