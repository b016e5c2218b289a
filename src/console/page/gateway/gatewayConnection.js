// @ts-check
/**
 * One WebSocket to one name server's gateway: requests matched to answers by
 * id, reconnection with backoff, and resume by `lastSeq` + `instanceId` so a
 * reconnect continues the stream where it broke off (or the server says
 * `reset`, which the owner shows as such).
 */

/** @typedef {import('./protocol.js').StreamMessage} StreamMessage */
/** @typedef {import('./protocol.js').Hello} Hello */
/** @typedef {import('../lib/serverClock.js').ServerClock} ServerClock */

/**
 * @typedef {object} ConnectionStatus
 * @property {'connecting' | 'connected' | 'offline'} state
 * @property {string} [problem] why it is not connected, in words
 * @property {number} [retryAt] local time of the next attempt
 */

/**
 * @typedef {object} StreamContext
 * @property {boolean} resumingHello a hello that opens a resume: its snapshot is
 *   newer than the replay that follows, so keep the state and let the replay catch up
 * @property {boolean} history already applied (a transition or route at or below
 *   the last sequence seen), or a reset answering `requestHistory`: for the log
 *   only, never for the state
 */

/**
 * @typedef {object} ConnectionHandlers
 * @property {(message: StreamMessage, context: StreamContext) => void} onStream
 * @property {(status: ConnectionStatus) => void} onStatus
 * @property {(result: { seq: number, replayed: number, reset: boolean, reason?: string }) => void} onResumed
 */

export class GatewayError extends Error {
  /**
   * @param {string} code gateway error code (`unauthorized`, `remoting_error`...) or `offline`
   * @param {string} message
   * @param {string} [remotingCodeName]
   */
  constructor(code, message, remotingCodeName) {
    super(message);
    this.code = code;
    this.remotingCodeName = remotingCodeName;
  }
}

const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 10_000;
const PING_EVERY_MS = 10_000;
/** A ping unanswered this long means a dead connection the browser has not noticed. */
const PING_DEADLINE_MS = 15_000;

export class GatewayConnection {
  /** @type {WebSocket | undefined} */
  #socket;
  #nextId = 1;
  /** @type {Map<number, { resolve: (result: any) => void, reject: (error: GatewayError) => void }>} */
  #pending = new Map();
  /** @type {number | null} sequence of the last stream message applied; null before the first hello */
  #lastSeq = null;
  /** @type {string | null} */
  #instanceId = null;
  #retryMs = FIRST_RETRY_MS;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  #retryTimer;
  /** @type {ReturnType<typeof setInterval> | undefined} */
  #pingTimer;
  #stopped = false;
  /** a `requestHistory` is in flight: a reset now answers it, not a reconnect */
  #historyRequested = false;
  /** @type {number | undefined} */
  #oldestAvailable;
  /** @type {ConnectionStatus} */
  status = { state: 'connecting' };

  /**
   * @param {object} options
   * @param {string} options.address `host:port` of the name server's HTTP port
   * @param {boolean} options.secure wss:// (the page itself came over https)
   * @param {() => string[]} options.topics topics to subscribe to on every (re)connect
   * @param {ServerClock} options.clock fed by the pings
   * @param {ConnectionHandlers} options.handlers
   */
  constructor({ address, secure, topics, clock, handlers }) {
    this.address = address;
    this.url = `${secure ? 'wss' : 'ws'}://${address}/ws`;
    this.topics = topics;
    this.clock = clock;
    this.handlers = handlers;
  }

  get connected() {
    return this.status.state === 'connected';
  }

  get lastSeq() {
    return this.#lastSeq;
  }

  start() {
    this.#stopped = false;
    this.#open();
  }

  stop() {
    this.#stopped = true;
    clearTimeout(this.#retryTimer);
    clearInterval(this.#pingTimer);
    this.#socket?.close(1000, 'console closed');
    this.#socket = undefined;
  }

  /** Closes and reopens at once, resuming the stream; the new connection starts unauthorized. */
  restart() {
    clearTimeout(this.#retryTimer);
    clearInterval(this.#pingTimer);
    const socket = this.#socket;
    this.#socket = undefined;
    for (const pending of this.#pending.values())
      pending.reject(new GatewayError('offline', `connection to ${this.address} restarted`));
    this.#pending.clear();
    socket?.close(1000, 'console reconnects');
    this.#retryMs = FIRST_RETRY_MS;
    this.#open();
  }

  /**
   * @param {string} op
   * @param {Record<string, unknown>} [fields]
   * @returns {Promise<any>} the response's `result`; rejects with a GatewayError
   */
  request(op, fields = {}) {
    const socket = this.#socket;
    if (!socket || socket.readyState !== WebSocket.OPEN) {
      return Promise.reject(new GatewayError('offline', `not connected to ${this.address}`));
    }
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      socket.send(JSON.stringify({ ...fields, op, id }));
    });
  }

  /**
   * Asks for the transitions the server still keeps from before this
   * connection (a `resume` from the start); they arrive as `history`. When the
   * oldest are gone the server answers with a reset; then ask again from the
   * oldest it keeps.
   * @returns {Promise<void>}
   */
  async requestHistory() {
    if (this.#instanceId === null) return;
    this.#historyRequested = true;
    try {
      const result = await this.request('resume', { lastSeq: 0, instanceId: this.#instanceId });
      const oldest = this.#oldestAvailable;
      if (result.reset && result.reason === 'gap' && oldest !== undefined && oldest > 1) {
        await this.request('resume', { lastSeq: oldest - 1, instanceId: this.#instanceId });
      }
    } finally {
      this.#historyRequested = false;
    }
  }

  #open() {
    const params = new URLSearchParams();
    const topics = this.topics();
    if (topics.length > 0) params.set('topics', topics.join(','));
    const resuming = this.#lastSeq !== null;
    if (this.#lastSeq !== null) {
      params.set('lastSeq', String(this.#lastSeq));
      if (this.#instanceId) params.set('instanceId', this.#instanceId);
    }
    const query = params.toString();
    const socket = new WebSocket(query ? `${this.url}?${query}` : this.url);
    this.#socket = socket;
    let opened = false;
    let helloSeen = false;
    this.#setStatus({ state: 'connecting' });

    socket.addEventListener('open', () => {
      opened = true;
    });
    socket.addEventListener('message', (event) => {
      if (socket !== this.#socket || typeof event.data !== 'string') return;
      /** @type {any} */
      const message = JSON.parse(event.data);
      if (message.type === 'hello') {
        helloSeen = true;
        this.#instanceId = message.server.instanceId;
        if (!resuming) this.#lastSeq = message.seq;
        this.#retryMs = FIRST_RETRY_MS;
        this.#setStatus({ state: 'connected' });
        this.#startPinging();
        this.handlers.onStream(message, { resumingHello: resuming, history: false });
        return;
      }
      this.#dispatch(message);
    });
    socket.addEventListener('close', (event) => {
      if (socket !== this.#socket) return;
      this.#socket = undefined;
      clearInterval(this.#pingTimer);
      for (const pending of this.#pending.values())
        pending.reject(new GatewayError('offline', `connection to ${this.address} closed`));
      this.#pending.clear();
      if (this.#stopped) return;
      const retryAt = Date.now() + this.#retryMs;
      this.#setStatus({ state: 'offline', problem: this.#problemOf(opened, helloSeen, event), retryAt });
      this.#retryTimer = setTimeout(() => this.#open(), this.#retryMs);
      this.#retryMs = Math.min(MAX_RETRY_MS, this.#retryMs * 2);
    });
  }

  /** @param {any} message */
  #dispatch(message) {
    switch (message.type) {
      case 'transition':
      case 'route': {
        const history = this.#lastSeq !== null && message.seq <= this.#lastSeq;
        if (!history) this.#lastSeq = message.seq;
        this.handlers.onStream(message, { resumingHello: false, history });
        return;
      }
      case 'reset':
        this.#lastSeq = message.seq;
        this.#instanceId = message.server.instanceId;
        this.#oldestAvailable = message.oldestAvailable;
        this.handlers.onStream(message, { resumingHello: false, history: this.#historyRequested });
        return;
      case 'response':
      case 'error': {
        if (message.id === null || message.id === undefined) {
          // The answer to the URL's ?lastSeq= resume.
          if (message.type === 'response' && message.op === 'resume') {
            if (this.#lastSeq === null || message.result.seq > this.#lastSeq) this.#lastSeq = message.result.seq;
            this.handlers.onResumed(message.result);
          }
          return;
        }
        const pending = this.#pending.get(message.id);
        if (!pending) return;
        this.#pending.delete(message.id);
        if (message.type === 'response') pending.resolve(message.result);
        else pending.reject(new GatewayError(message.code, message.message, message.remotingCodeName));
        return;
      }
    }
  }

  #startPinging() {
    clearInterval(this.#pingTimer);
    const ping = () => {
      const sentAt = Date.now();
      const socket = this.#socket;
      const deadline = setTimeout(() => {
        // Half-open TCP: the browser would wait for minutes before noticing.
        if (socket === this.#socket) socket?.close(4000, 'ping unanswered');
      }, PING_DEADLINE_MS);
      this.request('ping').then(
        (result) => {
          clearTimeout(deadline);
          this.clock.record(sentAt, Date.now(), result.at);
        },
        () => clearTimeout(deadline),
      );
    };
    // A few quick samples first: the first round trips share the main thread
    // with the page's start-up (chart layout), which skews them.
    ping();
    for (const delay of [1000, 2500, 5000]) {
      const socket = this.#socket;
      setTimeout(() => {
        if (socket === this.#socket && this.connected) ping();
      }, delay);
    }
    this.#pingTimer = setInterval(ping, PING_EVERY_MS);
  }

  /**
   * Browsers hide why an upgrade failed (403 for an origin the server does not
   * allow looks exactly like a closed port), so the text names both causes and
   * the setting that fixes the first.
   * @param {boolean} opened
   * @param {boolean} helloSeen
   * @param {CloseEvent} event
   */
  #problemOf(opened, helloSeen, event) {
    if (!opened) {
      return `connection to ${this.url} refused or unreachable: if that name server is running, its gatewayAllowedOrigins must list ${location.origin}`;
    }
    const why = event.reason ? `: ${event.reason}` : '';
    if (!helloSeen) return `connection to ${this.url} closed before the gateway greeted (code ${event.code}${why})`;
    return `connection to ${this.url} lost (code ${event.code}${why})`;
  }

  /** @param {ConnectionStatus} status */
  #setStatus(status) {
    this.status = status;
    this.handlers.onStatus(status);
  }
}
