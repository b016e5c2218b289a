// @ts-check
/**
 * The transition log's entries: bounded (the oldest fall off), filterable,
 * and read newest first by index, which is all a virtual list needs. The
 * filtered view is kept up to date entry by entry, so 200 transitions/s cost
 * one filter test each, not a rescan.
 */

/**
 * @typedef {object} LogEntry
 * @property {'transition' | 'reset' | 'resumed' | 'offline'} kind
 * @property {number} n insertion number, increasing
 * @property {number} [seq] stream sequence (transitions)
 * @property {number} at server ms (transitions) or local ms (markers)
 * @property {string} [machine]
 * @property {string} [actorId]
 * @property {string} [event]
 * @property {string | null} [from]
 * @property {string} [to]
 * @property {string} [text] what a marker says
 */

/**
 * @typedef {object} LogFilter
 * @property {string} machine `''` for all
 * @property {string} actor substring of the actor id
 * @property {string} event substring of the event
 */

export class TransitionLog {
  /** @type {LogEntry[]} */
  #entries = [];
  #entriesStart = 0;
  /** @type {LogEntry[]} */
  #view = [];
  #viewStart = 0;
  #nextN = 1;
  /** @type {LogFilter} */
  #filter = { machine: '', actor: '', event: '' };

  /** @param {number} capacity */
  constructor(capacity) {
    this.capacity = capacity;
  }

  /**
   * @param {Omit<LogEntry, 'n'>} fields
   * @returns {LogEntry}
   */
  add(fields) {
    const entry = /** @type {LogEntry} */ ({ ...fields, n: this.#nextN++ });
    this.#entries.push(entry);
    if (this.#entries.length - this.#entriesStart > this.capacity) this.#entriesStart++;
    if (this.#matches(entry)) this.#view.push(entry);
    const oldest = this.#entries[this.#entriesStart]?.n ?? entry.n;
    while (this.#viewStart < this.#view.length && (this.#view[this.#viewStart]?.n ?? oldest) < oldest)
      this.#viewStart++;
    this.#compact();
    return entry;
  }

  /**
   * Entries from before the first one (the history the server kept from
   * before the page connected), oldest first. Capacity still holds: the
   * oldest of them are dropped first.
   * @param {Omit<LogEntry, 'n'>[]} older
   */
  prependOlder(older) {
    const current = this.#entries.slice(this.#entriesStart);
    const room = Math.max(0, this.capacity - current.length);
    const kept = older.slice(Math.max(0, older.length - room));
    let n = (current[0]?.n ?? this.#nextN) - kept.length;
    // Insertion numbers only need to grow with age; history gets numbers below the oldest.
    this.#entries = [...kept.map((fields) => /** @type {LogEntry} */ ({ ...fields, n: n++ })), ...current];
    this.#entriesStart = 0;
    this.setFilter(this.#filter);
  }

  /** @param {LogFilter} filter */
  setFilter(filter) {
    this.#filter = { machine: filter.machine, actor: filter.actor.toLowerCase(), event: filter.event.toLowerCase() };
    this.#view = this.#entries.slice(this.#entriesStart).filter((entry) => this.#matches(entry));
    this.#viewStart = 0;
  }

  /** Entries passing the filter. */
  get length() {
    return this.#view.length - this.#viewStart;
  }

  /** Insertion number of the newest entry, 0 when empty. */
  get newestN() {
    return this.#nextN - 1;
  }

  /**
   * @param {number} index 0 = newest passing the filter
   * @returns {LogEntry | undefined}
   */
  newestFirst(index) {
    return this.#view[this.#view.length - 1 - index];
  }

  /**
   * Index (newest first) of the newest entry inserted at or before `n`: a
   * paused list keeps showing from there while newer entries arrive.
   * @param {number} n
   */
  indexOfN(n) {
    let low = this.#viewStart;
    let high = this.#view.length - 1;
    let found = this.#viewStart - 1;
    while (low <= high) {
      const middle = (low + high) >> 1;
      if ((this.#view[middle]?.n ?? 0) <= n) {
        found = middle;
        low = middle + 1;
      } else {
        high = middle - 1;
      }
    }
    return this.#view.length - 1 - found;
  }

  /** @param {LogEntry} entry */
  #matches(entry) {
    // Markers (reset, resumed, offline) concern every actor: a filter never hides them.
    if (entry.kind !== 'transition') return true;
    const filter = this.#filter;
    if (filter.machine && entry.machine !== filter.machine) return false;
    if (filter.actor && !(entry.actorId ?? '').toLowerCase().includes(filter.actor)) return false;
    if (filter.event && !(entry.event ?? '').toLowerCase().includes(filter.event)) return false;
    return true;
  }

  /** Drops the fallen-off prefix now and then, not on every add. */
  #compact() {
    if (this.#entriesStart > this.capacity) {
      this.#entries = this.#entries.slice(this.#entriesStart);
      this.#entriesStart = 0;
    }
    if (this.#viewStart > this.capacity) {
      this.#view = this.#view.slice(this.#viewStart);
      this.#viewStart = 0;
    }
  }
}
