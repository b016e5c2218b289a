// @ts-check
/**
 * The name servers shown side by side: one card each with its connection,
 * lifecycle and live broker count, flagged when it is not connected or not
 * ready (the divergence an operator sees before looking at any broker), and
 * the edit box for the list.
 */
import { h, setData, setText } from '../lib/dom.js';
import { nameServerProblem } from '../model/divergence.js';

/**
 * @typedef {object} NameServerCard
 * @property {string} address
 * @property {boolean} isSelf
 * @property {import('../gateway/gatewayConnection.js').ConnectionStatus} status
 * @property {import('../gateway/protocol.js').Lifecycle | null} lifecycle
 * @property {import('../gateway/protocol.js').ServerInfo | null} server
 * @property {number} liveBrokers
 */

export class NameServersPanel {
  /** @type {Map<string, { root: HTMLElement, state: HTMLElement, detail: HTMLElement, problem: HTMLElement }>} */
  #cards = new Map();

  /**
   * @param {object} options
   * @param {HTMLElement} options.root #nameservers
   * @param {HTMLFormElement} options.form
   * @param {HTMLInputElement} options.input #ns-input
   * @param {(others: string) => void} options.onApply
   */
  constructor({ root, form, input, onApply }) {
    this.root = root;
    this.input = input;
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      onApply(input.value);
    });
  }

  /** @param {string[]} others shown in the edit box */
  setInput(others) {
    this.input.value = others.join(', ');
  }

  /** @param {NameServerCard[]} nameServers */
  render(nameServers) {
    const addresses = new Set(nameServers.map((n) => n.address));
    for (const [address, card] of this.#cards) {
      if (!addresses.has(address)) {
        card.root.remove();
        this.#cards.delete(address);
      }
    }
    nameServers.forEach((nameServer, index) => {
      let card = this.#cards.get(nameServer.address);
      if (!card) {
        const state = h('span', { class: 'ns-state' });
        const detail = h('span', { class: 'ns-detail muted' });
        const problem = h('span', { class: 'ns-problem' });
        const root = h('div', { class: 'ns-card', 'data-ns': nameServer.address }, [
          h('span', { class: 'ns-address mono' }, [
            nameServer.address,
            nameServer.isSelf ? h('span', { class: 'badge' }, ['this page']) : null,
          ]),
          state,
          detail,
          problem,
        ]);
        card = { root, state, detail, problem };
        this.#cards.set(nameServer.address, card);
      }
      // In the list's order, moving a card only when it is out of place.
      if (this.root.children[index] !== card.root) this.root.insertBefore(card.root, this.root.children[index] ?? null);
      const connected = nameServer.status.state === 'connected';
      const lifecycle = nameServer.lifecycle;
      setData(card.root, 'data-connected', String(connected));
      setData(card.root, 'data-ready', String(connected && lifecycle?.ready === true));
      setText(card.state, connected ? (lifecycle?.detail ?? '…') : nameServer.status.state);
      setData(card.state, 'data-state', connected ? (lifecycle?.state ?? '') : nameServer.status.state);
      const version = nameServer.server ? `${nameServer.server.name} ${nameServer.server.version}` : '';
      setText(card.detail, connected ? `${nameServer.liveBrokers} live brokers · ${version}` : '');
      const flag = nameServerProblem({
        nameServer: nameServer.address,
        connected,
        ready: lifecycle?.ready,
        detail: lifecycle?.detail,
      });
      card.root.classList.toggle('flagged', flag !== null);
      setText(card.problem, connected ? (flag ?? '') : (nameServer.status.problem ?? 'connecting…'));
    });
  }
}
