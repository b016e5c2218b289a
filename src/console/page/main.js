// @ts-check
/**
 * The console's composition root: reads which name servers to show, opens a
 * gateway connection to each, feeds their streams into the models, and
 * wires the panels. Models change as messages arrive; panels draw at most
 * once per animation frame (FrameLoop), which is what keeps the page
 * responsive at 1,000 brokers and 200 transitions/s.
 */
import { byId, setData, setText } from './lib/dom.js';
import { formatClock } from './lib/format.js';
import { FrameLoop } from './lib/frameLoop.js';
import { ServerClock } from './lib/serverClock.js';
import { GatewayConnection } from './gateway/gatewayConnection.js';
import { mergeAddresses, normalizeAddress, parseAddressList } from './gateway/nameServerAddresses.js';
import { NameServerState } from './model/nameServerState.js';
import { TransitionLog } from './model/transitionLog.js';
import { brokerRow } from './model/brokerRows.js';
import { ChartPanel } from './panels/chartPanel.js';
import { BrokerPanel } from './panels/brokerPanel.js';
import { WaitPanel } from './panels/waitPanel.js';
import { BrokersPanel } from './panels/brokersPanel.js';
import { LogPanel } from './panels/logPanel.js';
import { RoutesPanel } from './panels/routesPanel.js';
import { NameServersPanel } from './panels/nameServersPanel.js';
import { ControlPanel } from './panels/controlPanel.js';

/** @typedef {import('./gateway/protocol.js').StreamMessage} StreamMessage */

/** Entries the transition log keeps. */
const LOG_CAPACITY = 5000;
/** At most one getBrokers per name server this often, however many registrations stream in. */
const DETAILS_EVERY_MS = 2000;

/**
 * @typedef {object} NameServerEntry
 * @property {string} address
 * @property {boolean} isSelf
 * @property {NameServerState} state
 * @property {ServerClock} clock
 * @property {GatewayConnection} connection
 * @property {boolean} detailsWanted a registration may have changed DataVersion or topics
 * @property {boolean} detailsInFlight
 * @property {boolean} lifecycleInFlight
 * @property {boolean} lifecycleAgain
 * @property {boolean} wasConnected
 * @property {import('./gateway/protocol.js').Transition[] | undefined} [history] collecting the server's kept transitions
 * @property {number | undefined} [firstLiveSeq] first transition received live on this connection
 */

/**
 * @param {HTMLElement} element
 * @returns {HTMLInputElement}
 */
function asInput(element) {
  if (!(element instanceof HTMLInputElement)) throw new Error(`#${element.id} is not an input`);
  return element;
}

/**
 * @param {HTMLElement} element
 * @returns {HTMLFormElement}
 */
function asForm(element) {
  if (!(element instanceof HTMLFormElement)) throw new Error(`#${element.id} is not a form`);
  return element;
}

/** @returns {Promise<{ self: string, nameServers: string[], version: string }>} */
async function loadConfig() {
  try {
    const response = await fetch('/console/config.json', { headers: { accept: 'application/json' } });
    if (!response.ok) throw new Error(String(response.status));
    const config = await response.json();
    return {
      self: typeof config.self === 'string' && config.self ? config.self : location.host,
      nameServers: Array.isArray(config.nameServers) ? config.nameServers.map(String) : [],
      version: typeof config.version === 'string' ? config.version : '',
    };
  } catch {
    return { self: location.host, nameServers: [], version: '' };
  }
}

async function start() {
  // Marks for the console bench (bench/console.ts) and the browser's performance panel.
  performance.mark('console:start');
  const config = await loadConfig();
  performance.mark('console:config');
  const self = normalizeAddress(config.self);
  const fromUrl = parseAddressList(new URLSearchParams(location.search).get('ns') ?? '');
  setText(byId('version'), config.version);
  setText(byId('lifecycle-ns'), `on ${self}`);

  const loop = new FrameLoop();
  const log = new TransitionLog(LOG_CAPACITY);
  /** @type {NameServerEntry[]} */
  let entries = [];
  const own = () => entries.find((e) => e.isSelf);
  const serverNow = () => own()?.clock.now() ?? Date.now();

  // The lifecycle is a long chain of nested states: top to bottom reads best in its column.
  const nameServerChart = new ChartPanel({
    machineId: 'nameServer',
    container: byId('chart-nameServer'),
    caption: byId('chart-nameServer-caption'),
    direction: 'DOWN',
  });
  const brokerChart = new ChartPanel({
    machineId: 'broker',
    container: byId('chart-broker'),
    caption: byId('chart-broker-caption'),
    direction: 'RIGHT',
  });
  const brokerHistory = byId('broker-history');
  if (!(brokerHistory instanceof HTMLOListElement)) throw new Error('#broker-history is not a list');
  const brokerPanel = new BrokerPanel({
    chart: brokerChart,
    container: byId('chart-broker'),
    title: byId('broker-chart-title'),
    history: brokerHistory,
  });
  const waitPanel = new WaitPanel(byId('wait'));

  const nameServerViews = () =>
    entries.map((e) => ({ address: e.address, connected: e.connection.connected, brokers: e.state.brokers }));
  const renderBrokerPanel = () =>
    brokerPanel.render(brokerPanel.key ? brokerRow(brokerPanel.key, nameServerViews()) : null);
  /** @param {string} key */
  const selectBroker = (key) => {
    brokersPanel.select(key);
    brokerPanel.select(key);
    const row = brokerRow(key, nameServerViews());
    if (row) controlPanel.setBrokerName(row.detail.brokerName);
    loop.request(renderBrokerPanel);
  };
  const renderBrokers = () => {
    brokersPanel.render(serverNow());
    if (brokersPanel.rowCount > 0 && performance.getEntriesByName('console:brokers').length === 0)
      performance.mark('console:brokers');
    if (brokerPanel.key === null) {
      const first = brokersPanel.firstKey();
      if (first) selectBroker(first);
    }
  };
  const brokersPanel = new BrokersPanel({
    root: byId('brokers'),
    nameServers: nameServerViews,
    onSelect: selectBroker,
    requestRender: () => loop.request(renderBrokers),
  });

  const logPanel = new LogPanel({
    log,
    viewport: byId('log'),
    pauseButton: /** @type {HTMLButtonElement} */ (byId('log-pause')),
    count: byId('log-count'),
    filters: {
      machine: /** @type {HTMLSelectElement} */ (byId('log-machine')),
      actor: asInput(byId('log-actor')),
      event: asInput(byId('log-event')),
    },
    requestRender: () => loop.request(renderLog),
  });
  const renderLog = () => logPanel.render();

  const routesPanel = new RoutesPanel({
    connection: () => own()?.connection,
    topicInput: asInput(byId('route-topic')),
    form: asForm(byId('route-form')),
    subscribeButton: /** @type {HTMLButtonElement} */ (byId('route-subscribe')),
    result: byId('route-result'),
    subscriptionsRoot: byId('route-subscriptions'),
  });

  const controlPanel = new ControlPanel({
    connection: () => own()?.connection,
    tokenForm: asForm(byId('token-form')),
    tokenInput: asInput(byId('token-input')),
    forgetButton: /** @type {HTMLButtonElement} */ (byId('token-forget')),
    controls: byId('controls'),
    mode: byId('control-mode'),
    result: byId('control-result'),
    kvForm: asForm(byId('kv-read')),
    kvNamespace: asInput(byId('kv-namespace')),
    kvTable: byId('kv-table'),
  });

  const nameServersPanel = new NameServersPanel({
    root: byId('nameservers'),
    form: asForm(byId('ns-form')),
    input: asInput(byId('ns-input')),
    onApply: (text) => setNameServers(parseAddressList(text)),
  });
  const renderNameServers = () =>
    nameServersPanel.render(
      entries.map((e) => ({
        address: e.address,
        isSelf: e.isSelf,
        status: e.connection.status,
        lifecycle: e.state.lifecycle,
        server: e.state.server,
        liveBrokers: countLive(e.state),
      })),
    );

  const renderLifecycle = () => {
    const lifecycle = own()?.state.lifecycle ?? null;
    waitPanel.render(lifecycle, serverNow());
    nameServerChart.show(lifecycle ? lifecycle.detail : null);
  };

  const connectionStatus = byId('connection-status');
  const renderConnectionStatus = () => {
    const entry = own();
    if (!entry) return;
    const status = entry.connection.status;
    setData(connectionStatus, 'data-status', status.state);
    if (status.state === 'connected') setText(connectionStatus, `connected to ${entry.address}`);
    else if (status.state === 'connecting') setText(connectionStatus, `connecting to ${entry.address}…`);
    else {
      // Not "disconnected": the word must not contain "connected" while it is not.
      const retry = status.retryAt
        ? `; retrying in ${Math.max(0, Math.ceil((status.retryAt - Date.now()) / 1000))} s`
        : '';
      setText(connectionStatus, `offline: ${status.problem ?? 'no connection'}${retry}`);
    }
  };

  /** @param {NameServerEntry} entry */
  const refreshLifecycle = (entry) => {
    if (entry.lifecycleInFlight) {
      entry.lifecycleAgain = true;
      return;
    }
    entry.lifecycleInFlight = true;
    entry.connection
      .request('getLifecycle')
      .then((lifecycle) => entry.state.applyLifecycle(lifecycle))
      .catch(() => undefined)
      .finally(() => {
        entry.lifecycleInFlight = false;
        if (entry.lifecycleAgain) {
          entry.lifecycleAgain = false;
          refreshLifecycle(entry);
        }
      });
  };

  /** @param {NameServerEntry} entry */
  const refreshDetails = (entry) => {
    if (!entry.detailsWanted || entry.detailsInFlight || !entry.connection.connected) return;
    entry.detailsWanted = false;
    entry.detailsInFlight = true;
    entry.connection
      .request('getBrokers')
      .then((result) => entry.state.applyBrokerDetails(result.brokers))
      .catch(() => (entry.detailsWanted = true))
      .finally(() => (entry.detailsInFlight = false));
  };

  /**
   * @param {NameServerEntry} entry
   * @param {import('./gateway/protocol.js').Transition} message
   */
  const logEntryOf = (entry, message) => ({
    kind: /** @type {const} */ ('transition'),
    seq: message.seq,
    at: message.at,
    machine: message.machine,
    actorId: message.actorId,
    event: message.event,
    from: message.from,
    to: message.to,
  });

  /**
   * The transitions the server kept from before the page connected: the log
   * and the brokers' recent transitions start with them instead of empty.
   * @param {NameServerEntry} entry
   */
  const loadHistory = (entry) => {
    /** @type {import('./gateway/protocol.js').Transition[]} */
    const past = [];
    entry.history = past;
    entry.connection
      .requestHistory()
      .catch(() => undefined)
      .finally(() => {
        entry.history = undefined;
        // Only what came before the first live entry: the rest the log already has.
        const firstLiveSeq = entry.firstLiveSeq ?? Number.MAX_SAFE_INTEGER;
        const older = past.filter((t) => t.seq < firstLiveSeq).sort((a, b) => a.seq - b.seq);
        log.prependOlder(older.map((t) => logEntryOf(entry, t)));
        entry.state.recordPastTransitions(older);
        loop.request(renderLog);
      });
  };

  /**
   * @param {NameServerEntry} entry
   * @param {StreamMessage} message
   * @param {import('./gateway/gatewayConnection.js').StreamContext} context
   */
  const onStream = (entry, message, context) => {
    switch (message.type) {
      case 'hello':
        if (entry.isSelf) performance.mark('console:hello');
        if (context.resumingHello) {
          entry.state.setServer(message.server);
        } else {
          entry.state.applySnapshot(message);
          entry.firstLiveSeq = undefined;
        }
        if (entry.isSelf) {
          if (!context.resumingHello) {
            routesPanel.applyRoutes(message.routes, message.seq, 'subscribed');
            loadHistory(entry);
          }
          controlPanel.showServerAuth(message.auth);
          void controlPanel.reauthorize();
        }
        return;
      case 'transition':
        if (context.history) {
          entry.history?.push(message);
          return;
        }
        entry.clock.observe(message.at);
        if (entry.state.applyTransition(message)) entry.detailsWanted = true;
        if (message.machine === 'nameServer') refreshLifecycle(entry);
        if (!entry.isSelf) return;
        entry.firstLiveSeq ??= message.seq;
        log.add(logEntryOf(entry, message));
        logPanel.entriesAdded();
        if (message.machine === 'nameServer') nameServerChart.flash(message);
        return;
      case 'route':
        if (entry.isSelf && !context.history) routesPanel.applyPush(message);
        return;
      case 'reset':
        entry.state.applySnapshot(message);
        // The answer to the history request when the oldest are gone: a fresh snapshot, not a lost stream.
        if (!entry.isSelf || context.history) return;
        log.add({
          kind: 'reset',
          at: Date.now(),
          text: `reset (${message.reason}): the server could not replay what followed seq ${message.lastSeq}${message.oldestAvailable ? ` (oldest it keeps: ${message.oldestAvailable})` : ''}; state reloaded from its snapshot at seq ${message.seq}. Transitions in between are not in this log.`,
        });
        loop.request(renderLog);
        routesPanel.applyRoutes(message.routes, message.seq, 'reset');
        return;
    }
  };

  /**
   * @param {string} address
   * @param {boolean} isSelf
   * @returns {NameServerEntry}
   */
  const createEntry = (address, isSelf) => {
    const clock = new ServerClock();
    /** @type {NameServerEntry} */
    const entry = /** @type {any} */ ({
      address,
      isSelf,
      clock,
      detailsWanted: false,
      detailsInFlight: false,
      lifecycleInFlight: false,
      lifecycleAgain: false,
      wasConnected: false,
    });
    entry.state = new NameServerState(address, {
      brokersChanged: (keys) => {
        brokersPanel.markDirty(keys);
        if (brokerPanel.key !== null) {
          for (const key of keys) {
            if (key === brokerPanel.key) {
              loop.request(renderBrokerPanel);
              break;
            }
          }
        }
        loop.request(renderNameServers);
      },
      lifecycleChanged: () => {
        if (entry.isSelf) loop.request(renderLifecycle);
        loop.request(renderNameServers);
      },
    });
    entry.connection = new GatewayConnection({
      address,
      secure: location.protocol === 'https:',
      topics: () => (entry.isSelf ? routesPanel.topics() : []),
      clock,
      handlers: {
        onStream: (message, context) => onStream(entry, message, context),
        onStatus: (status) => {
          if (entry.isSelf) {
            if (status.state === 'offline' && entry.wasConnected) {
              log.add({
                kind: 'offline',
                at: Date.now(),
                text: `connection lost (${status.problem ?? 'closed'}); resuming after seq ${entry.connection.lastSeq ?? 0} when it is back`,
              });
              loop.request(renderLog);
            }
            loop.request(renderConnectionStatus);
          }
          entry.wasConnected = status.state === 'connected';
          brokersPanel.markAllDirty();
          loop.request(renderNameServers);
        },
        onResumed: (result) => {
          refreshLifecycle(entry);
          entry.detailsWanted = true;
          refreshDetails(entry);
          if (!entry.isSelf) return;
          if (!result.reset) {
            log.add({
              kind: 'resumed',
              at: Date.now(),
              text: `reconnected: ${result.replayed} missed message(s) replayed up to seq ${result.seq}, nothing lost`,
            });
            loop.request(renderLog);
          }
          routesPanel.applyRoutes(/** @type {any} */ (result).routes, result.seq, 'resume');
        },
      },
    });
    return entry;
  };

  /** @param {string[]} others name servers besides this page's */
  const setNameServers = (others) => {
    const addresses = mergeAddresses(self, others);
    const kept = entries.filter((e) => addresses.includes(e.address));
    for (const entry of entries) if (!kept.includes(entry)) entry.connection.stop();
    entries = addresses.map(
      (address) => kept.find((e) => e.address === address) ?? createEntry(address, address === self),
    );
    for (const entry of entries) if (!kept.includes(entry)) entry.connection.start();
    const rest = addresses.slice(1);
    nameServersPanel.setInput(rest);
    // The list is shareable as a link; nothing secret goes into the URL.
    const url = new URL(location.href);
    if (rest.length > 0) url.searchParams.set('ns', rest.join(','));
    else url.searchParams.delete('ns');
    if (url.href !== location.href) history.replaceState(null, '', url);
    brokersPanel.markAllDirty();
    loop.request(renderNameServers);
  };

  setNameServers([...config.nameServers, ...fromUrl]);
  loop.request(renderConnectionStatus);
  // elkjs lays the charts out in a worker, in parallel with the gateway's
  // hello: only measuring text and building the SVG run on this thread.
  void nameServerChart.load().then(() => {
    performance.mark('console:chart-nameServer');
    loop.request(renderLifecycle);
  });
  void brokerChart.load().then(() => {
    performance.mark('console:chart-broker');
    loop.request(renderBrokerPanel);
  });

  const clockText = byId('clock');
  setInterval(() => {
    const now = Date.now();
    for (const entry of entries) entry.state.sweepGone(now);
    loop.request(() => {
      const server = serverNow();
      brokersPanel.tick(server);
      waitPanel.render(own()?.state.lifecycle ?? null, server);
      renderConnectionStatus();
      const clock = own()?.clock;
      setText(
        clockText,
        clock?.synced
          ? `server clock ${formatClock(server).slice(0, 8)} (browser ${clock.offset >= 0 ? '+' : ''}${Math.round(clock.offset)} ms)`
          : '',
      );
    });
  }, 1000);
  setInterval(() => {
    for (const entry of entries) refreshDetails(entry);
  }, DETAILS_EVERY_MS);
}

/** @param {NameServerState} state */
function countLive(state) {
  let live = 0;
  for (const broker of state.brokers.values()) if (broker.state === 'registered') live++;
  return live;
}

void start();
