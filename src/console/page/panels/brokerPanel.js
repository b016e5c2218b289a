// @ts-check
/**
 * The selected broker: its chart lit in its own state on the page's name
 * server (or the first that knows it), and its recent transitions.
 */
import { h, setData, setText } from '../lib/dom.js';
import { formatClock } from '../lib/format.js';

/** @typedef {import('./chartPanel.js').ChartPanel} ChartPanel */
/** @typedef {import('../model/brokerRows.js').BrokerRow} BrokerRow */

export class BrokerPanel {
  /** @type {string | null} */
  #key = null;
  /** @type {number} seq of the newest transition already flashed */
  #flashedSeq = 0;

  /**
   * @param {object} options
   * @param {ChartPanel} options.chart
   * @param {HTMLElement} options.container #chart-broker
   * @param {HTMLElement} options.title
   * @param {HTMLOListElement} options.history
   */
  constructor({ chart, container, title, history }) {
    this.chart = chart;
    this.container = container;
    this.title = title;
    this.history = history;
  }

  get key() {
    return this.#key;
  }

  /** @param {string | null} key */
  select(key) {
    if (key === this.#key) return;
    this.#key = key;
    this.#flashedSeq = Number.MAX_SAFE_INTEGER; // no flash for history that happened before the selection
    setData(this.container, 'data-broker-key', key ?? '');
    this.history.replaceChildren();
  }

  /** @param {BrokerRow | null} row the selected broker now */
  render(row) {
    if (!row) {
      this.chart.show(null);
      setText(
        this.title,
        this.#key ? `${this.#key}: no longer known to any name server` : 'none selected: click a row',
      );
      return;
    }
    const d = row.detail;
    const role = d.brokerId === 0 ? 'master' : `slave ${d.brokerId}`;
    setText(
      this.title,
      `${d.clusterName} / ${d.brokerName} (${role}) ${d.brokerAddr}, ${d.state} on ${row.detailFrom}`,
    );
    this.chart.show(d.state);
    const newest = d.history[d.history.length - 1];
    if (this.#flashedSeq === Number.MAX_SAFE_INTEGER) this.#flashedSeq = newest?.seq ?? 0;
    for (const step of d.history) {
      if (step.seq > this.#flashedSeq) this.chart.flash(step);
    }
    if (newest) this.#flashedSeq = Math.max(this.#flashedSeq, newest.seq);
    const items = [...d.history]
      .reverse()
      .map((step) =>
        h('li', { 'data-seq': step.seq }, [
          h('span', { class: 'num' }, [`#${step.seq}`]),
          ` ${formatClock(step.at)} `,
          h('span', { class: 'mono' }, [`${step.from ?? '(new)'} → ${step.to}`]),
          ' ',
          h('span', { class: 'muted mono' }, [step.event]),
        ]),
      );
    if (items.length === 0) items.push(h('li', { class: 'muted' }, ['none since the console connected']));
    this.history.replaceChildren(...items);
  }
}
