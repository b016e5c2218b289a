// @ts-check
/**
 * The transition log as a virtual list: newest on top, fixed-height rows,
 * and only the rows in view (plus a few) exist in the DOM, so a log of
 * thousands of entries at 200 new ones a second costs the same as a short
 * one. Pausing freezes the view (entries keep being recorded); resuming jumps
 * back to the newest.
 */
import { h, setText } from '../lib/dom.js';
import { formatClock } from '../lib/format.js';

/** @typedef {import('../model/transitionLog.js').TransitionLog} TransitionLog */
/** @typedef {import('../model/transitionLog.js').LogEntry} LogEntry */

const ROW_HEIGHT = 20;
const OVERSCAN = 6;
/**
 * New entries are drawn at most this often. At 200 transitions/s nobody reads
 * the lines as they pass, and redrawing the list every frame was the page's
 * largest cost (bench/README.md); scrolling, filtering and pausing still draw
 * at the next frame.
 */
const LIVE_REDRAW_MS = 100;

export class LogPanel {
  /** @type {number | null} newest entry shown while paused */
  #pausedAtN = null;
  /** @type {Map<number, HTMLElement>} rows in the DOM by entry n */
  #drawn = new Map();
  /** newest entry at the last render, to keep a scrolled-down view still */
  #renderedNewestN = 0;
  #lastRenderAt = 0;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  #liveTimer;

  /**
   * @param {object} options
   * @param {TransitionLog} options.log
   * @param {HTMLElement} options.viewport #log
   * @param {HTMLButtonElement} options.pauseButton #log-pause
   * @param {HTMLElement} options.count
   * @param {{ machine: HTMLSelectElement, actor: HTMLInputElement, event: HTMLInputElement }} options.filters
   * @param {() => void} options.requestRender
   */
  constructor({ log, viewport, pauseButton, count, filters, requestRender }) {
    this.log = log;
    this.viewport = viewport;
    this.pauseButton = pauseButton;
    this.count = count;
    this.requestRender = requestRender;
    this.spacer = h('div', { class: 'log-spacer' });
    viewport.replaceChildren(this.spacer);
    viewport.addEventListener('scroll', () => requestRender(), { passive: true });
    pauseButton.addEventListener('click', () => this.setPaused(this.#pausedAtN === null));
    const onFilter = () => {
      log.setFilter({
        machine: filters.machine.value,
        actor: filters.actor.value.trim(),
        event: filters.event.value.trim(),
      });
      this.#clear();
      requestRender();
    };
    filters.machine.addEventListener('change', onFilter);
    filters.actor.addEventListener('input', onFilter);
    filters.event.addEventListener('input', onFilter);
    filters.machine.form?.addEventListener('submit', (event) => event.preventDefault());
  }

  /** @param {boolean} paused */
  setPaused(paused) {
    this.#pausedAtN = paused ? this.log.newestN : null;
    this.pauseButton.setAttribute('aria-pressed', String(paused));
    setText(this.pauseButton, paused ? 'Resume' : 'Pause');
    this.viewport.classList.toggle('paused', paused);
    if (!paused) this.viewport.scrollTop = 0;
    this.#clear();
    this.requestRender();
  }

  get paused() {
    return this.#pausedAtN !== null;
  }

  /** New entries arrived: drawn within LIVE_REDRAW_MS, batched with whatever else comes. */
  entriesAdded() {
    if (this.#liveTimer !== undefined) return;
    const wait = Math.max(0, this.#lastRenderAt + LIVE_REDRAW_MS - performance.now());
    if (wait === 0) {
      this.requestRender();
      return;
    }
    this.#liveTimer = setTimeout(() => {
      this.#liveTimer = undefined;
      this.requestRender();
    }, wait);
  }

  render() {
    this.#lastRenderAt = performance.now();
    const first = this.#pausedAtN === null ? 0 : this.log.indexOfN(this.#pausedAtN);
    const total = Math.max(0, this.log.length - first);
    const height = `${total * ROW_HEIGHT}px`;
    if (this.spacer.style.height !== height) this.spacer.style.height = height;
    if (this.#pausedAtN === null && this.viewport.scrollTop > 0) {
      // Someone is reading older entries: new ones on top must not push them away.
      const added = this.log.indexOfN(this.#renderedNewestN);
      if (added > 0) this.viewport.scrollTop += added * ROW_HEIGHT;
    }
    this.#renderedNewestN = this.log.newestN;
    const top = Math.floor(this.viewport.scrollTop / ROW_HEIGHT);
    const visible = Math.ceil((this.viewport.clientHeight || 400) / ROW_HEIGHT);
    const from = Math.max(0, top - OVERSCAN);
    const to = Math.min(total, top + visible + OVERSCAN);
    /** @type {Set<number>} */
    const wanted = new Set();
    for (let i = from; i < to; i++) {
      const entry = this.log.newestFirst(first + i);
      if (!entry) continue;
      wanted.add(entry.n);
      let row = this.#drawn.get(entry.n);
      if (!row) {
        row = rowOf(entry);
        this.#drawn.set(entry.n, row);
        this.viewport.append(row);
      }
      const y = `translateY(${i * ROW_HEIGHT}px)`;
      if (row.style.transform !== y) row.style.transform = y;
    }
    for (const [n, row] of this.#drawn) {
      if (!wanted.has(n)) {
        row.remove();
        this.#drawn.delete(n);
      }
    }
    const waiting = this.#pausedAtN === null ? 0 : this.log.length - total;
    setText(this.count, `(${this.log.length}${waiting > 0 ? `, ${waiting} new while paused` : ''})`);
  }

  #clear() {
    for (const row of this.#drawn.values()) row.remove();
    this.#drawn.clear();
  }
}

/**
 * @param {LogEntry} entry
 * @returns {HTMLElement}
 */
function rowOf(entry) {
  if (entry.kind !== 'transition') {
    return h(
      'div',
      { class: `log-row marker ${entry.kind}`, 'data-kind': entry.kind, title: entry.text ?? entry.kind },
      [h('span', { class: 'log-marker' }, [`${formatClock(entry.at)}  ${entry.text ?? entry.kind}`])],
    );
  }
  return h('div', { class: `log-row machine-${entry.machine}`, 'data-seq': entry.seq, 'data-kind': 'transition' }, [
    h('span', { class: 'num' }, [entry.seq]),
    h('span', {}, [formatClock(entry.at)]),
    h('span', { class: 'mono', title: entry.actorId }, [entry.actorId]),
    h('span', { class: 'mono', title: entry.event }, [shortEvent(entry.event ?? '')]),
    h('span', { class: 'mono' }, [`${entry.from ?? '(new)'} → ${entry.to}`]),
  ]);
}

/**
 * xstate's delayed-event names carry the state id; the delay name is what matters.
 * @param {string} event
 */
function shortEvent(event) {
  const after = /^xstate\.after\.([^.]+)\./.exec(event);
  if (after) return `after ${after[1]}`;
  if (event.startsWith('xstate.done.actor.')) return 'done (invoked actor)';
  return event;
}
