// @ts-check
/**
 * The brokers table, one row per broker across all name servers, drawn
 * incrementally: a frame touches only the rows whose broker changed, writes
 * only the cells whose text changed, and moves only the rows that are out of
 * order. 1,000 brokers heartbeating is then a handful of cell writes per
 * frame.
 */
import { h, setData, setText } from '../lib/dom.js';
import { formatDataVersion, formatDuration } from '../lib/format.js';
import { brokerRow, rowPasses } from '../model/brokerRows.js';

/** @typedef {import('../model/brokerRows.js').BrokerRow} BrokerRow */
/** @typedef {import('../model/brokerRows.js').NameServerView} NameServerView */

/**
 * @typedef {object} Column
 * @property {string} id
 * @property {string} title
 * @property {string} width grid track
 * @property {(row: BrokerRow, now: number) => string} text
 * @property {(row: BrokerRow, now: number) => string | number} sortValue
 * @property {boolean} [ticks] changes with time alone (ages)
 * @property {string} [className]
 */

/** @type {Column[]} */
const COLUMNS = [
  {
    id: 'cluster',
    title: 'Cluster',
    width: 'minmax(110px, 1fr)',
    text: (r) => r.detail.clusterName,
    sortValue: (r) => r.detail.clusterName,
  },
  {
    id: 'name',
    title: 'Broker',
    width: 'minmax(110px, 1fr)',
    text: (r) => r.detail.brokerName,
    sortValue: (r) => r.detail.brokerName,
  },
  {
    id: 'address',
    title: 'Address',
    width: 'minmax(150px, 1fr)',
    text: (r) => r.detail.brokerAddr,
    sortValue: (r) => r.detail.brokerAddr,
    className: 'mono',
  },
  {
    id: 'id',
    title: 'Id',
    width: '76px',
    text: (r) => `${r.detail.brokerId} ${r.detail.brokerId === 0 ? 'master' : 'slave'}`,
    sortValue: (r) => r.detail.brokerId,
  },
  { id: 'state', title: 'State', width: '100px', text: (r) => r.detail.state, sortValue: (r) => r.detail.state },
  {
    id: 'generation',
    title: 'Gen',
    width: '50px',
    text: (r) => String(r.detail.generation),
    sortValue: (r) => r.detail.generation,
    className: 'num',
  },
  {
    id: 'age',
    title: 'Heartbeat age',
    width: '128px',
    text: (r, now) => (r.detail.lastRefresh === undefined ? '' : formatDuration(now - r.detail.lastRefresh)),
    sortValue: (r, now) => (r.detail.lastRefresh === undefined ? -1 : Math.floor((now - r.detail.lastRefresh) / 1000)),
    ticks: true,
    className: 'num',
  },
  {
    id: 'timeout',
    title: 'Timeout',
    width: '92px',
    text: (r) => (r.detail.heartbeatTimeoutMillis === undefined ? '' : formatDuration(r.detail.heartbeatTimeoutMillis)),
    sortValue: (r) => r.detail.heartbeatTimeoutMillis ?? -1,
    className: 'num',
  },
  {
    id: 'topics',
    title: 'Topics',
    width: '64px',
    text: (r) => (r.detail.topicCount === undefined ? '' : String(r.detail.topicCount)),
    sortValue: (r) => r.detail.topicCount ?? -1,
    className: 'num',
  },
  {
    id: 'dataVersion',
    title: 'DataVersion',
    width: '160px',
    text: (r) => formatDataVersion(r.detail.dataVersion),
    sortValue: (r) => r.detail.dataVersion?.counter ?? -1,
    className: 'mono',
  },
];

/**
 * Rows per tbody. The browser skips rendering a tbody scrolled out of view
 * (content-visibility), and watching 20 groups costs less per frame than
 * watching 1,000 rows.
 */
const ROWS_PER_GROUP = 50;

/**
 * @typedef {object} DrawnRow
 * @property {HTMLTableRowElement} tr
 * @property {HTMLTableCellElement[]} cells one per column
 * @property {HTMLTableCellElement[]} nameServerCells one per name server
 * @property {HTMLTableCellElement | undefined} divergenceCell
 * @property {BrokerRow} row
 */

export class BrokersPanel {
  /** @type {Map<string, DrawnRow>} */
  #rows = new Map();
  /** @type {Set<string>} */
  #dirty = new Set();
  #orderDirty = false;
  #layoutDirty = true;
  /** @type {string[]} name server columns as last drawn */
  #columnsFor = [];
  #sort = { column: 'cluster', descending: false };
  #filter = { text: '', show: 'all' };
  /** @type {string | null} */
  #selected = null;
  /** @type {HTMLTableSectionElement[]} row groups, in order */
  #groups = [];
  /** @type {DrawnRow[]} rows in their drawn order */
  #ordered = [];
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  #countTimer;

  /**
   * @param {object} options
   * @param {HTMLElement} options.root #brokers
   * @param {() => NameServerView[]} options.nameServers the page's own first
   * @param {(key: string) => void} options.onSelect
   * @param {() => void} options.requestRender
   */
  constructor({ root, nameServers, onSelect, requestRender }) {
    this.root = root;
    this.nameServers = nameServers;
    this.requestRender = requestRender;
    const table = root.querySelector('table');
    const tbody = root.querySelector('tbody');
    const headRow = root.querySelector('#brokers-head');
    const search = root.querySelector('#brokers-search');
    const show = root.querySelector('#brokers-show');
    const count = root.querySelector('#brokers-count');
    if (
      !table ||
      !tbody ||
      !(headRow instanceof HTMLTableRowElement) ||
      !(search instanceof HTMLInputElement) ||
      !(show instanceof HTMLSelectElement) ||
      !(count instanceof HTMLElement)
    ) {
      throw new Error('#brokers is missing its table or filter');
    }
    this.#groups = [tbody];
    this.headRow = headRow;
    this.table = table;
    this.count = count;
    table.addEventListener('click', (event) => {
      const tr = /** @type {Element | null} */ (event.target)?.closest('tr[data-broker-key]');
      const key = tr?.getAttribute('data-broker-key');
      if (key) onSelect(key);
    });
    headRow.addEventListener('click', (event) => {
      const th = /** @type {Element | null} */ (event.target)?.closest('th[data-column]');
      const column = th?.getAttribute('data-column');
      if (!column) return;
      this.#sort = { column, descending: this.#sort.column === column ? !this.#sort.descending : false };
      this.#layoutDirty = true;
      this.#orderDirty = true;
      requestRender();
    });
    root.querySelector('#brokers-filter')?.addEventListener('submit', (event) => event.preventDefault());
    const onFilter = () => {
      this.#filter = { text: search.value.trim(), show: show.value };
      for (const drawn of this.#rows.values()) drawn.tr.hidden = !rowPasses(drawn.row, this.#filter);
      this.#renderCount();
    };
    search.addEventListener('input', onFilter);
    show.addEventListener('change', onFilter);
  }

  /** @param {Iterable<string>} keys brokers whose data changed */
  markDirty(keys) {
    for (const key of keys) this.#dirty.add(key);
    this.requestRender();
  }

  /** A name server came, went, connected or disconnected: every row may read differently. */
  markAllDirty() {
    for (const key of this.#rows.keys()) this.#dirty.add(key);
    for (const nameServer of this.nameServers()) for (const key of nameServer.brokers.keys()) this.#dirty.add(key);
    this.requestRender();
  }

  /** @param {string | null} key */
  select(key) {
    if (this.#selected) this.#rows.get(this.#selected)?.tr.classList.remove('selected');
    this.#selected = key;
    if (key) this.#rows.get(key)?.tr.classList.add('selected');
  }

  get rowCount() {
    return this.#rows.size;
  }

  /** @returns {string | undefined} the first row shown, to select something by default */
  firstKey() {
    return this.#ordered.find((drawn) => !drawn.tr.hidden)?.row.key;
  }

  /** @param {number} now server clock */
  render(now) {
    const nameServers = this.nameServers();
    const addresses = nameServers.map((n) => n.address);
    if (addresses.join(',') !== this.#columnsFor.join(',')) {
      // Other name server columns: rebuild every row (rare: the operator changed the list).
      this.#columnsFor = addresses;
      for (const drawn of this.#rows.values()) drawn.tr.remove();
      this.#rows.clear();
      this.#layoutDirty = true;
      this.markAllDirty();
    }
    if (this.#layoutDirty) this.#renderHead(addresses);
    const multiple = addresses.length > 1;
    /** @type {DocumentFragment | undefined} */
    let added;
    for (const key of this.#dirty) {
      const row = brokerRow(key, nameServers);
      const drawn = this.#rows.get(key);
      if (!row) {
        if (drawn) {
          drawn.tr.remove();
          this.#rows.delete(key);
        }
        continue;
      }
      if (drawn) {
        const before = this.#sortValue(drawn.row, now);
        this.#update(drawn, row, now, multiple);
        // Re-sort only when this row's place may have changed.
        if (this.#sortValue(row, now) !== before) this.#orderDirty = true;
      } else {
        const fresh = this.#create(row, now, multiple);
        this.#rows.set(key, fresh);
        (added ??= document.createDocumentFragment()).append(fresh.tr);
        this.#orderDirty = true;
      }
    }
    this.#dirty.clear();
    if (added) this.#groups[this.#groups.length - 1]?.append(added);
    if (this.#orderDirty) this.#reorder(now);
    this.#renderCountSoon();
  }

  /**
   * Ages move with the clock alone: rewritten once a second, and re-sorted
   * when the table is sorted by age.
   * @param {number} now
   */
  tick(now) {
    const index = COLUMNS.findIndex((c) => c.ticks);
    const column = COLUMNS[index];
    if (!column) return;
    for (const drawn of this.#rows.values()) {
      const cell = drawn.cells[index];
      if (cell) setText(cell, column.text(drawn.row, now));
      this.#markAge(drawn, now);
    }
    if (COLUMNS.find((c) => c.id === this.#sort.column)?.ticks) this.#reorder(now);
  }

  /** @param {string[]} addresses */
  #renderHead(addresses) {
    this.#layoutDirty = false;
    const tracks = [
      ...COLUMNS.map((c) => c.width),
      ...addresses.map(() => 'minmax(140px, 1fr)'),
      ...(addresses.length > 1 ? ['minmax(260px, 2fr)'] : []),
    ];
    this.table.style.setProperty('--broker-columns', tracks.join(' '));
    const arrow = this.#sort.descending ? ' ▼' : ' ▲';
    const th = (/** @type {string} */ id, /** @type {string} */ title, /** @type {string} */ extra = '') =>
      h(
        'th',
        {
          'data-column': id,
          scope: 'col',
          'aria-sort': this.#sort.column === id ? (this.#sort.descending ? 'descending' : 'ascending') : false,
          title: extra || false,
        },
        [title, this.#sort.column === id ? arrow : ''],
      );
    this.headRow.replaceChildren(
      ...COLUMNS.map((c) => th(c.id, c.title)),
      ...addresses.map((address, i) =>
        h('th', { 'data-ns': address, scope: 'col', class: 'ns-column' }, [i === 0 ? `${address} (this)` : address]),
      ),
      ...(addresses.length > 1 ? [th('divergence', 'Divergence')] : []),
    );
  }

  /**
   * @param {BrokerRow} row
   * @param {number} now
   * @param {boolean} multiple
   * @returns {DrawnRow}
   */
  #create(row, now, multiple) {
    const cells = COLUMNS.map((column) => h('td', { class: column.className ?? false }));
    const nameServerCells = row.cells.map((cell) => h('td', { 'data-ns': cell.nameServer, class: 'ns-cell' }));
    const divergenceCell = multiple ? h('td', { class: 'divergence' }) : undefined;
    const tr = h('tr', { 'data-broker-key': row.key });
    tr.append(...cells, ...nameServerCells);
    if (divergenceCell) tr.append(divergenceCell);
    if (row.key === this.#selected) tr.classList.add('selected');
    const drawn = { tr, cells, nameServerCells, divergenceCell, row };
    this.#update(drawn, row, now, multiple);
    return drawn;
  }

  /**
   * @param {DrawnRow} drawn
   * @param {BrokerRow} row
   * @param {number} now
   * @param {boolean} multiple
   */
  #update(drawn, row, now, multiple) {
    drawn.row = row;
    COLUMNS.forEach((column, i) => {
      const cell = drawn.cells[i];
      if (cell) setText(cell, column.text(row, now));
    });
    const stateCell = drawn.cells[COLUMNS.findIndex((c) => c.id === 'state')];
    if (stateCell) setData(stateCell, 'data-state', row.detail.state);
    row.cells.forEach((cell, i) => {
      const td = drawn.nameServerCells[i];
      if (!td) return;
      setData(td, 'data-state', cell.state);
      setText(td, cell.state);
      const record = cell.record;
      td.title = record
        ? `${cell.nameServer}: ${record.state}, generation ${record.generation}, DataVersion ${formatDataVersion(record.dataVersion) || 'unknown'}`
        : `${cell.nameServer}: not registered there`;
    });
    setData(drawn.tr, 'data-divergent', row.divergence.length > 0 ? 'true' : 'false');
    drawn.tr.classList.toggle('gone', !row.live);
    if (drawn.divergenceCell) setText(drawn.divergenceCell, row.divergence.join('; '));
    else if (multiple) drawn.tr.title = row.divergence.join('\n');
    this.#markAge(drawn, now);
    drawn.tr.hidden = !rowPasses(row, this.#filter);
  }

  /**
   * Warns before the name server expires a broker: past 80 % of its timeout.
   * @param {DrawnRow} drawn
   * @param {number} now
   */
  #markAge(drawn, now) {
    const { lastRefresh, heartbeatTimeoutMillis, state } = drawn.row.detail;
    const late =
      state === 'registered' &&
      lastRefresh !== undefined &&
      heartbeatTimeoutMillis !== undefined &&
      now - lastRefresh > 0.8 * heartbeatTimeoutMillis;
    drawn.tr.classList.toggle('late', late);
  }

  /**
   * @param {BrokerRow} row
   * @param {number} now
   * @returns {string | number}
   */
  #sortValue(row, now) {
    const column = COLUMNS.find((c) => c.id === this.#sort.column);
    return column ? column.sortValue(row, now) : row.divergence.join(';');
  }

  /** @param {number} now */
  #reorder(now) {
    this.#orderDirty = false;
    const direction = this.#sort.descending ? -1 : 1;
    const rows = [...this.#rows.values()].map((drawn) => ({ drawn, value: this.#sortValue(drawn.row, now) }));
    rows.sort((a, b) => {
      const byValue = compare(a.value, b.value) * direction;
      if (byValue !== 0) return byValue;
      // Stable, readable tie-break: cluster, broker name, id, address.
      const x = a.drawn.row.detail;
      const y = b.drawn.row.detail;
      return (
        collator.compare(x.clusterName, y.clusterName) ||
        collator.compare(x.brokerName, y.brokerName) ||
        x.brokerId - y.brokerId ||
        collator.compare(x.brokerAddr, y.brokerAddr)
      );
    });
    this.#ordered = rows.map((r) => r.drawn);
    // Move only what is out of place: in a sorted table a change moves a row or two.
    const groupCount = Math.max(1, Math.ceil(rows.length / ROWS_PER_GROUP));
    while (this.#groups.length < groupCount) {
      const group = h('tbody');
      this.table.append(group);
      this.#groups.push(group);
    }
    for (let g = 0; g < groupCount; g++) {
      const group = /** @type {HTMLTableSectionElement} */ (this.#groups[g]);
      let at = group.firstElementChild;
      for (const drawn of this.#ordered.slice(g * ROWS_PER_GROUP, (g + 1) * ROWS_PER_GROUP)) {
        if (at === drawn.tr) {
          at = at.nextElementSibling;
        } else {
          // Rows still after `at` belong to later groups and move there in turn.
          group.insertBefore(drawn.tr, at);
        }
      }
    }
    while (this.#groups.length > groupCount) this.#groups.pop()?.remove();
  }

  /** The count walks every row: a few times a second is enough for a number. */
  #renderCountSoon() {
    if (this.#countTimer !== undefined) return;
    this.#countTimer = setTimeout(() => {
      this.#countTimer = undefined;
      this.#renderCount();
    }, 250);
  }

  #renderCount() {
    let live = 0;
    let shown = 0;
    let divergent = 0;
    for (const drawn of this.#rows.values()) {
      if (drawn.row.live) live++;
      if (!drawn.tr.hidden) shown++;
      if (drawn.row.divergence.length > 0) divergent++;
    }
    const total = this.#rows.size;
    const parts = [`${live} live of ${total}`];
    if (shown !== total) parts.push(`${shown} shown`);
    if (divergent > 0) parts.push(`${divergent} divergent`);
    setText(this.count, `(${parts.join(', ')})`);
  }
}

/** `broker-10` after `broker-9`; one collator, far cheaper than localeCompare per call. */
const collator = new Intl.Collator(undefined, { numeric: true });

/**
 * @param {string | number} a
 * @param {string | number} b
 */
function compare(a, b) {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return collator.compare(String(a), String(b));
}
