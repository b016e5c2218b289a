// @ts-check
/**
 * Topic routes: a one-off lookup (`getRoute`), and subscriptions whose
 * pushes are listed as they arrive, each drawn against the route before it
 * with what changed marked (a broker added or removed, a queue count or
 * permission changed).
 */
import { h } from '../lib/dom.js';
import { errorMessage, formatClock, formatPerm } from '../lib/format.js';
import { diffRoutes } from '../model/routeDiff.js';

/** @typedef {import('../gateway/protocol.js').RouteData} RouteData */
/** @typedef {import('../gateway/protocol.js').RoutePush} RoutePush */
/** @typedef {import('../gateway/gatewayConnection.js').GatewayConnection} GatewayConnection */
/** @typedef {import('../model/routeDiff.js').RouteRowChange} RouteRowChange */

/** Pushes kept per topic. */
const PUSHES_KEPT = 20;

/**
 * @typedef {object} Subscription
 * @property {RouteData | null | undefined} route the latest known (undefined: not known yet)
 * @property {number} seq of the latest route, to drop older replays (docs/gateway.md)
 * @property {HTMLElement} card
 * @property {HTMLElement} feed
 */

export class RoutesPanel {
  /** @type {Map<string, Subscription>} */
  #subscriptions = new Map();

  /**
   * @param {object} options
   * @param {() => GatewayConnection | undefined} options.connection the page's own name server
   * @param {HTMLInputElement} options.topicInput #route-topic
   * @param {HTMLFormElement} options.form
   * @param {HTMLButtonElement} options.subscribeButton
   * @param {HTMLElement} options.result #route-result
   * @param {HTMLElement} options.subscriptionsRoot
   */
  constructor({ connection, topicInput, form, subscribeButton, result, subscriptionsRoot }) {
    this.connection = connection;
    this.topicInput = topicInput;
    this.result = result;
    this.subscriptionsRoot = subscriptionsRoot;
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.lookUp(topicInput.value.trim());
    });
    subscribeButton.addEventListener('click', () => void this.subscribe(topicInput.value.trim()));
  }

  /** Topics to put on the gateway URL, so a reconnect keeps them. */
  topics() {
    return [...this.#subscriptions.keys()];
  }

  /** @param {string} topic */
  async lookUp(topic) {
    if (!topic) {
      this.result.replaceChildren(h('p', { class: 'problem' }, ['enter a topic']));
      return;
    }
    const connection = this.connection();
    this.result.replaceChildren(h('p', { class: 'muted' }, [`looking up ${topic}…`]));
    try {
      if (!connection) throw new Error('not connected');
      const answer = await connection.request('getRoute', { topic });
      const conf = orderConf(answer.route);
      this.result.replaceChildren(
        h('p', { class: 'route-title' }, [
          h('strong', {}, [topic]),
          h('span', { class: 'muted' }, [` looked up at ${formatClock(Date.now())}`]),
        ]),
        routeTable(diffRoutes(answer.route, answer.route)),
        ...(conf ? [conf] : []),
      );
      this.result.dataset.topic = topic;
      this.result.dataset.found = 'true';
    } catch (error) {
      this.result.dataset.topic = topic;
      this.result.dataset.found = 'false';
      this.result.replaceChildren(h('p', { class: 'problem' }, [`${topic}: ${errorMessage(error)}`]));
    }
  }

  /** @param {string} topic */
  async subscribe(topic) {
    if (!topic || this.#subscriptions.has(topic)) return;
    const feed = h('ol', { class: 'pushes', reversed: true });
    const unsubscribe = h('button', { type: 'button', class: 'small' }, ['Unsubscribe']);
    const card = h('div', { class: 'subscription', 'data-topic': topic }, [
      h('div', { class: 'subscription-head' }, [h('strong', {}, [topic]), unsubscribe]),
      feed,
    ]);
    /** @type {Subscription} */
    const subscription = { route: undefined, seq: 0, card, feed };
    this.#subscriptions.set(topic, subscription);
    this.subscriptionsRoot.prepend(card);
    unsubscribe.addEventListener('click', () => void this.unsubscribe(topic));
    const connection = this.connection();
    try {
      if (!connection) throw new Error('not connected');
      const result = await connection.request('subscribe', { topics: [topic] });
      const route = result.routes?.[topic];
      if (route !== undefined) this.#record(topic, { seq: result.seq, at: Date.now(), cause: 'subscribed', route });
      else this.#note(subscription, 'subscribed; routes are not served yet, the route comes as soon as they are');
    } catch (error) {
      this.#note(subscription, `subscribe refused: ${errorMessage(error)}`, 'problem');
    }
  }

  /** @param {string} topic */
  async unsubscribe(topic) {
    const subscription = this.#subscriptions.get(topic);
    if (!subscription) return;
    this.#subscriptions.delete(topic);
    subscription.card.remove();
    await this.connection()
      ?.request('unsubscribe', { topics: [topic] })
      .catch(() => undefined);
  }

  /** @param {RoutePush} push */
  applyPush(push) {
    this.#record(push.topic, push);
  }

  /**
   * Routes carried by a snapshot (hello, reset) or a resume answer.
   * @param {Record<string, RouteData | null> | undefined} routes
   * @param {number} seq
   * @param {string} cause
   */
  applyRoutes(routes, seq, cause) {
    for (const [topic, route] of Object.entries(routes ?? {}))
      this.#record(topic, { seq, at: Date.now(), cause, route });
  }

  /**
   * @param {string} topic
   * @param {{ seq: number, at: number, cause: string, route: RouteData | null }} push
   */
  #record(topic, push) {
    const subscription = this.#subscriptions.get(topic);
    if (!subscription) return;
    // Older than what is held: a replay after a fresher subscribe answer.
    if (push.seq <= subscription.seq && subscription.route !== undefined) return;
    const changes = diffRoutes(subscription.route ?? null, push.route);
    const changed = changes.filter((c) => c.status !== 'same').length;
    const first = subscription.route === undefined;
    subscription.route = push.route;
    subscription.seq = push.seq;
    const item = h('li', { class: 'push fresh', 'data-seq': push.seq }, [
      h('div', { class: 'push-head' }, [
        h('span', { class: 'num' }, [`#${push.seq}`]),
        ` ${formatClock(push.at)} `,
        h('span', { class: 'cause' }, [push.cause]),
        h('span', { class: 'muted' }, [
          push.route === null
            ? ' no route any more'
            : first
              ? ''
              : changed === 0
                ? ' nothing changed'
                : ` ${changed} broker(s) changed`,
        ]),
      ]),
      push.route === null ? null : routeTable(first ? diffRoutes(push.route, push.route) : changes),
    ]);
    subscription.feed.prepend(item);
    while (subscription.feed.children.length > PUSHES_KEPT) subscription.feed.lastElementChild?.remove();
  }

  /**
   * @param {Subscription} subscription
   * @param {string} text
   * @param {string} [className]
   */
  #note(subscription, text, className = 'muted') {
    subscription.feed.prepend(h('li', { class: className }, [text]));
  }
}

/**
 * @param {RouteRowChange[]} changes
 */
function routeTable(changes) {
  if (changes.length === 0) return h('p', { class: 'muted' }, ['no brokers']);
  const cell = (
    /** @type {RouteRowChange} */ change,
    /** @type {import('../model/routeDiff.js').RouteField} */ field,
    /** @type {string} */ text,
  ) => {
    const was = change.before?.[field];
    const changed = change.fields.has(field);
    return h('td', { class: changed ? 'changed' : false, title: changed ? `was ${was ?? 'absent'}` : false }, [text]);
  };
  const show = (/** @type {number | undefined} */ n) => (n === undefined ? '' : String(n));
  return h('table', { class: 'route-table' }, [
    h('thead', {}, [
      h(
        'tr',
        {},
        ['broker', 'cluster', 'addresses (id=addr)', 'read', 'write', 'perm', 'sysFlag'].map((t) => h('th', {}, [t])),
      ),
    ]),
    h(
      'tbody',
      {},
      changes.map((change) =>
        h('tr', { class: change.status, 'data-broker-name': change.row.brokerName }, [
          h('td', {}, [
            change.row.brokerName,
            change.status === 'added' || change.status === 'removed'
              ? h('span', { class: 'badge' }, [change.status])
              : null,
          ]),
          cell(change, 'cluster', change.row.cluster),
          cell(change, 'addresses', change.row.addresses),
          cell(change, 'readQueueNums', show(change.row.readQueueNums)),
          cell(change, 'writeQueueNums', show(change.row.writeQueueNums)),
          cell(change, 'perm', change.row.perm === undefined ? '' : formatPerm(change.row.perm)),
          cell(change, 'topicSysFlag', show(change.row.topicSysFlag)),
        ]),
      ),
    ),
  ]);
}

/** @param {RouteData | null | undefined} route */
function orderConf(route) {
  return route?.orderTopicConf ? h('p', {}, [`orderTopicConf: ${route.orderTopicConf}`]) : null;
}
