// @ts-check
/**
 * The server's clock as seen from the page. Countdowns and heartbeat ages are
 * differences against server timestamps (`holdingEndsAt`, `lastRefresh`), so
 * a browser clock that is off by a minute would show nonsense; the gateway
 * `ping` answers with the server's `at`, and the sample with the shortest
 * round trip bounds the error best (half its round trip).
 */
export class ServerClock {
  /** @type {{ offset: number, roundTrip: number }[]} */
  #samples = [];
  #offset = 0;

  /**
   * @param {number} sentAt local Date.now() when the ping left
   * @param {number} receivedAt local Date.now() when its answer arrived
   * @param {number} serverAt the answer's `at`
   */
  record(sentAt, receivedAt, serverAt) {
    const roundTrip = receivedAt - sentAt;
    this.#samples.push({ offset: serverAt - (sentAt + roundTrip / 2), roundTrip });
    // Recent samples only: either clock may be adjusted while the page is open.
    if (this.#samples.length > 8) this.#samples.shift();
    let best = this.#samples[0];
    for (const sample of this.#samples) if (best === undefined || sample.roundTrip < best.roundTrip) best = sample;
    this.#offset = best?.offset ?? 0;
  }

  /**
   * A server timestamp just received (a transition's `at`) proves the server
   * clock is at least there: catch up at once instead of at the next ping.
   * (Matters when the server's clock jumps, as a test clock does.)
   * @param {number} serverAt
   */
  observe(serverAt) {
    const ahead = serverAt - this.now();
    if (ahead > 0) this.#offset += ahead;
  }

  /** Server time now, in ms. */
  now() {
    return Date.now() + this.#offset;
  }

  /** Server minus browser clock, in ms. */
  get offset() {
    return this.#offset;
  }

  get synced() {
    return this.#samples.length > 0;
  }
}
