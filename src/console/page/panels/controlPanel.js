// @ts-check
/**
 * Control operations, only with the gateway token. The token lives in this
 * object's private field for the page's lifetime: never in the URL, storage
 * or a cookie, and the input is emptied once it is sent. The controls are
 * created only after the gateway accepted the token (the `auth` op) and
 * removed when it refuses or the operator forgets the token; a refusal of any
 * operation is shown as one, with the server's words.
 */
import { h, setText } from '../lib/dom.js';
import { errorMessage } from '../lib/format.js';

/** @typedef {import('../gateway/gatewayConnection.js').GatewayConnection} GatewayConnection */

/**
 * @typedef {object} ControlSpec
 * @property {string} op gateway op, also the `data-control` value
 * @property {string} title
 * @property {{ name: string, placeholder: string, optional?: boolean, broker?: boolean }[]} fields
 * @property {(result: any) => string} done
 */

/** @type {ControlSpec[]} */
const CONTROLS = [
  {
    op: 'wipeWritePerm',
    title: 'Wipe write permission',
    fields: [{ name: 'brokerName', placeholder: 'broker name', broker: true }],
    done: (r) => `write permission wiped on ${r.wipeTopicCount} topic(s)`,
  },
  {
    op: 'addWritePerm',
    title: 'Add write permission',
    fields: [{ name: 'brokerName', placeholder: 'broker name', broker: true }],
    done: (r) => `write permission added on ${r.addTopicCount} topic(s)`,
  },
  {
    op: 'deleteTopic',
    title: 'Delete topic',
    fields: [
      { name: 'topic', placeholder: 'topic' },
      { name: 'clusterName', placeholder: 'cluster (optional)', optional: true },
    ],
    done: () => 'topic deleted from the name server',
  },
  {
    op: 'putKv',
    title: 'Put KV',
    fields: [
      { name: 'namespace', placeholder: 'namespace' },
      { name: 'key', placeholder: 'key' },
      { name: 'value', placeholder: 'value' },
    ],
    done: () => 'stored',
  },
  {
    op: 'deleteKv',
    title: 'Delete KV',
    fields: [
      { name: 'namespace', placeholder: 'namespace' },
      { name: 'key', placeholder: 'key' },
    ],
    done: () => 'deleted',
  },
];

export class ControlPanel {
  /** @type {string | null} */
  #token = null;
  #authorized = false;
  /** @type {string} */
  #brokerName = '';

  /**
   * @param {object} options
   * @param {() => GatewayConnection | undefined} options.connection the page's own name server
   * @param {HTMLFormElement} options.tokenForm
   * @param {HTMLInputElement} options.tokenInput #token-input
   * @param {HTMLButtonElement} options.forgetButton
   * @param {HTMLElement} options.controls where the controls appear
   * @param {HTMLElement} options.mode
   * @param {HTMLElement} options.result #control-result
   * @param {HTMLFormElement} options.kvForm
   * @param {HTMLInputElement} options.kvNamespace
   * @param {HTMLElement} options.kvTable
   */
  constructor({
    connection,
    tokenForm,
    tokenInput,
    forgetButton,
    controls,
    mode,
    result,
    kvForm,
    kvNamespace,
    kvTable,
  }) {
    this.connection = connection;
    this.controls = controls;
    this.mode = mode;
    this.result = result;
    this.forgetButton = forgetButton;
    this.kvTable = kvTable;
    tokenForm.addEventListener('submit', (event) => {
      event.preventDefault();
      const token = tokenInput.value;
      tokenInput.value = '';
      if (token) void this.#authorize(token);
    });
    forgetButton.addEventListener('click', () => this.forget());
    kvForm.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.#listKv(kvNamespace.value.trim());
    });
  }

  /** After a reconnect the new connection is not authorized: present the token again. */
  async reauthorize() {
    if (this.#token !== null) await this.#authorize(this.#token, true);
  }

  /**
   * @param {{ controlOps: string }} auth the hello's `auth`
   */
  showServerAuth(auth) {
    if (this.#authorized) return;
    setText(
      this.mode,
      auth.controlOps === 'disabled'
        ? 'read-only: this name server has no gatewayToken, control is disabled'
        : 'read-only: enter the gateway token to act',
    );
  }

  /** Drops the token and the connection's authorization. */
  forget() {
    const hadToken = this.#token !== null;
    this.#token = null;
    this.#setAuthorized(false);
    this.#report('token forgotten; the console is read-only', false);
    // A connection stays authorized until it closes: reconnect (the stream resumes by lastSeq).
    if (hadToken) this.connection()?.restart();
  }

  /** @param {string} brokerName the selected broker's name, prefilled in broker controls */
  setBrokerName(brokerName) {
    this.#brokerName = brokerName;
    for (const input of this.controls.querySelectorAll('input[data-broker-field]')) {
      if (input instanceof HTMLInputElement && !input.dataset.edited) input.value = brokerName;
    }
  }

  /**
   * @param {string} token
   * @param {boolean} [again] a re-authorization after a reconnect
   */
  async #authorize(token, again = false) {
    const connection = this.connection();
    try {
      if (!connection) throw new Error('not connected');
      const result = await connection.request('auth', { token });
      if (!result.authorized) throw new Error('the gateway did not authorize this token');
      this.#token = token;
      this.#setAuthorized(true);
      if (!again) this.#report('token accepted: control operations enabled', false);
    } catch (error) {
      this.#token = null;
      this.#setAuthorized(false);
      this.#report(`token refused: ${messageOf(error)}`, true);
    }
  }

  /** @param {boolean} authorized */
  #setAuthorized(authorized) {
    this.forgetButton.hidden = !authorized;
    if (authorized === this.#authorized && (authorized ? this.controls.childElementCount > 0 : true)) return;
    this.#authorized = authorized;
    if (!authorized) {
      this.controls.replaceChildren();
      setText(this.mode, 'read-only: enter the gateway token to act');
      return;
    }
    setText(this.mode, 'control enabled (token held in memory only)');
    this.controls.replaceChildren(...CONTROLS.map((spec) => this.#controlForm(spec)));
  }

  /** @param {ControlSpec} spec */
  #controlForm(spec) {
    const inputs = spec.fields.map((field) => {
      const input = h('input', {
        type: 'text',
        name: field.name,
        placeholder: field.placeholder,
        spellcheck: 'false',
        required: !field.optional,
        'data-broker-field': field.broker ? 'true' : false,
        'aria-label': `${spec.title}: ${field.placeholder}`,
      });
      if (field.broker) {
        input.value = this.#brokerName;
        input.addEventListener('input', () => (input.dataset.edited = 'true'));
      }
      return input;
    });
    const button = h('button', { type: 'submit', 'data-control': spec.op }, [spec.title]);
    const form = h('form', { class: 'control-form inline-form', id: `control-${spec.op}`, autocomplete: 'off' }, [
      ...inputs,
      button,
    ]);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      /** @type {Record<string, string>} */
      const fields = {};
      for (const input of inputs) if (input.value.trim() !== '') fields[input.name] = input.value.trim();
      void this.#run(spec, fields);
    });
    return form;
  }

  /**
   * @param {ControlSpec} spec
   * @param {Record<string, string>} fields
   */
  async #run(spec, fields) {
    const what = `${spec.op} ${Object.values(fields).join(' ')}`;
    const connection = this.connection();
    try {
      if (!connection) throw new Error('not connected');
      const result = await connection.request(spec.op, fields);
      this.#report(`${what}: ${spec.done(result)}`, false);
    } catch (error) {
      this.#report(`${what}: refused: ${messageOf(error)}`, true);
    }
  }

  /** @param {string} namespace */
  async #listKv(namespace) {
    if (!namespace) return;
    const connection = this.connection();
    try {
      if (!connection) throw new Error('not connected');
      const result = await connection.request('getKvList', { namespace });
      const entries = Object.entries(result.table ?? {});
      this.kvTable.replaceChildren(
        entries.length === 0
          ? h('p', { class: 'muted' }, [`${namespace}: empty`])
          : h('table', { class: 'kv-table' }, [
              h('thead', {}, [h('tr', {}, [h('th', {}, ['key']), h('th', {}, ['value'])])]),
              h(
                'tbody',
                {},
                entries.map(([key, value]) =>
                  h('tr', {}, [h('td', { class: 'mono' }, [key]), h('td', { class: 'mono' }, [String(value)])]),
                ),
              ),
            ]),
      );
    } catch (error) {
      this.kvTable.replaceChildren(h('p', { class: 'problem' }, [`${namespace}: ${messageOf(error)}`]));
    }
  }

  /**
   * @param {string} text
   * @param {boolean} refused
   */
  #report(text, refused) {
    this.result.classList.toggle('refused', refused);
    this.result.classList.toggle('accepted', !refused);
    setText(this.result, text);
  }
}

/** @param {unknown} error */
function messageOf(error) {
  if (error && typeof error === 'object' && 'code' in error && 'message' in error) {
    const e = /** @type {{ code: string, message: string, remotingCodeName?: string }} */ (error);
    return `${e.code}${e.remotingCodeName ? ` ${e.remotingCodeName}` : ''}: ${e.message}`;
  }
  return errorMessage(error);
}
