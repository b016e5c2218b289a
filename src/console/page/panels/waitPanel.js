// @ts-check
/**
 * The wait, in the words of the lifecycle status: where the name server is,
 * what it still waits for, how long until each of its two timers ends (on
 * the server's clock), what happens at the deadline, and whether routes are
 * served and why not.
 */
import { setText } from '../lib/dom.js';
import { formatClock, formatDuration } from '../lib/format.js';

/** @typedef {import('../gateway/protocol.js').Lifecycle} Lifecycle */

const TIMEOUT_ACTIONS = {
  serve: 'serve: routes of whatever registered, reported as degraded (timedOut.serving)',
  refuse: 'refuse: keep refusing route requests, not ready (timedOut.refusing)',
};

export class WaitPanel {
  /** @param {HTMLElement} root #wait */
  constructor(root) {
    /** @param {string} name */
    const field = (name) => {
      const element = root.querySelector(`[data-field="${name}"]`);
      if (!(element instanceof HTMLElement)) throw new Error(`#wait has no [data-field="${name}"]`);
      return element;
    };
    this.root = root;
    this.fields = {
      state: field('state'),
      since: field('since'),
      detail: field('detail'),
      liveBrokers: field('live-brokers'),
      missing: field('missing'),
      holding: field('holding-countdown'),
      holdingBar: field('holding-bar'),
      timeout: field('timeout-countdown'),
      timeoutBar: field('timeout-bar'),
      timeoutAction: field('timeout-action'),
      routes: field('routes'),
      degraded: field('degraded'),
    };
  }

  /**
   * @param {Lifecycle | null} lifecycle
   * @param {number} serverNow server clock, ms
   */
  render(lifecycle, serverNow) {
    const f = this.fields;
    if (!lifecycle) {
      setText(f.state, 'unknown (not connected)');
      return;
    }
    this.root.dataset.state = lifecycle.state;
    setText(f.state, lifecycle.state);
    setText(
      f.since,
      lifecycle.since ? `since ${formatClock(lifecycle.since)} (${formatDuration(serverNow - lifecycle.since)})` : '',
    );
    setText(f.detail, lifecycle.detail);
    setText(f.liveBrokers, String(lifecycle.waitTarget.liveBrokers));
    const missing = lifecycle.waitTarget.missing;
    setText(
      f.missing,
      missing.length > 0
        ? missing.join('; ')
        : lifecycle.waitTarget.met
          ? 'nothing: the wait target is met'
          : 'nothing',
    );
    f.missing.classList.toggle('warn', missing.length > 0);

    const waiting = lifecycle.state === 'waiting';
    const wait = lifecycle.wait;
    if (!wait) {
      setText(f.holding, 'no wait (needWaitForService=false)');
      setText(f.timeout, 'no deadline (needWaitForService=false)');
      setBar(f.holdingBar, 1);
      setBar(f.timeoutBar, 0);
    } else {
      setText(f.holding, countdown(wait.holdingEndsAt, serverNow, waiting && lifecycle.detail === 'waiting.holding'));
      setText(
        f.timeout,
        waiting ? countdown(wait.timeoutAt, serverNow, true) : afterTheWait(lifecycle, wait.timeoutAt),
      );
      setBar(f.holdingBar, progress(wait.startedAt, wait.holdingEndsAt, serverNow));
      setBar(
        f.timeoutBar,
        waiting ? progress(wait.startedAt, wait.timeoutAt, serverNow) : lifecycle.state === 'timedOut' ? 1 : 0,
      );
    }
    setText(f.timeoutAction, TIMEOUT_ACTIONS[lifecycle.waitTimeoutAction] ?? lifecycle.waitTimeoutAction);
    setText(
      f.routes,
      lifecycle.servingRoutes
        ? lifecycle.degraded.length > 0
          ? 'served (degraded)'
          : 'served'
        : `refused: ${lifecycle.routesRefused ?? 'not serving routes'}`,
    );
    f.routes.classList.toggle('warn', !lifecycle.servingRoutes);
    setText(f.degraded, lifecycle.degraded.length > 0 ? lifecycle.degraded.join('; ') : 'no');
    f.degraded.classList.toggle('warn', lifecycle.degraded.length > 0);
  }
}

/**
 * @param {number} endsAt
 * @param {number} now
 * @param {boolean} running whether this timer is still the one that matters
 */
function countdown(endsAt, now, running) {
  const left = endsAt - now;
  if (left > 0)
    return `${formatDuration(left + 999)} left (at ${formatClock(endsAt)})${running ? '' : ', no longer waited for'}`;
  return `ended ${formatDuration(-left)} ago (at ${formatClock(endsAt)})`;
}

/**
 * @param {Lifecycle} lifecycle
 * @param {number} timeoutAt
 */
function afterTheWait(lifecycle, timeoutAt) {
  if (lifecycle.state === 'timedOut') return `passed at ${formatClock(timeoutAt)}: ${lifecycle.detail}`;
  if (lifecycle.state === 'ready') return `not needed: ready before it (${formatClock(timeoutAt)})`;
  return `${lifecycle.state} (deadline ${formatClock(timeoutAt)})`;
}

/**
 * @param {number} start
 * @param {number} end
 * @param {number} now
 */
function progress(start, end, now) {
  if (end <= start) return 1;
  return Math.min(1, Math.max(0, (now - start) / (end - start)));
}

/**
 * @param {HTMLElement} bar
 * @param {number} fraction
 */
function setBar(bar, fraction) {
  // CSSOM, not a style attribute: the console's content security policy allows no inline styles.
  // A scale, not a width: it animates without laying out the page every frame.
  const transform = `scaleX(${Math.round(fraction * 1000) / 1000})`;
  if (bar.style.transform !== transform) bar.style.transform = transform;
}
