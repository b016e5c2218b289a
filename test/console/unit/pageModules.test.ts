import { readdirSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { join, relative, sep } from 'node:path';
import ELK from 'elkjs/lib/elk.bundled.js';
import { describe, expect, it } from 'vitest';
import { brokerMachine } from '../../../machines/broker.js';
import { nameServerMachine } from '../../../machines/nameServer.js';
import { exportMachineConfig } from '../../../src/observe/machineConfig.js';

/**
 * The console page's pure modules (no DOM), run in Node: the chart model and
 * layout, which arrow a streamed transition took, the log, route diffs,
 * divergence and the per-name-server state. The page is plain JavaScript
 * (checked by src/console/page/tsconfig.json), so its modules load as `any`.
 */
const pageDir = fileURLToPath(new URL('../../../src/console/page/', import.meta.url));
const page = (path: string): Promise<any> => import(pathToFileURL(join(pageDir, path)).href);

const nameServerConfig = () => exportMachineConfig(nameServerMachine).config;
const brokerConfig = () => exportMachineConfig(brokerMachine).config;

interface Transition {
  id: string;
  sourceId: string;
  targetId: string;
  kind: string;
  label: string;
  guard?: string;
  reenter: boolean;
}

describe('machine graph', () => {
  it('reads the exported name server config: nesting, initial states, finals, labels for delays, eventless moves and guards', async () => {
    const { machineGraph } = await page('chart/machineGraph.js');
    const graph = machineGraph(nameServerConfig());
    const state = (id: string) => graph.states.get(id);
    expect(state('nameServer').kind).toBe('machine');
    expect(state('nameServer').initialId).toBe('nameServer.starting');
    expect(state('nameServer.waiting').kind).toBe('compound');
    expect(state('nameServer.waiting').initialId).toBe('nameServer.waiting.holding');
    expect(state('nameServer.waiting.holding').parentId).toBe('nameServer.waiting');
    expect(state('nameServer.stopped').kind).toBe('final');
    expect(state('nameServer.timedOut.serving').tags).toEqual(['ready', 'servingRoutes', 'degraded']);
    // Targetless transitions of the machine are listed inside its box.
    expect(state('nameServer').notes).toContain('BROKER.HEARTBEAT [isLiveBroker] / forwardToBrokerActor');
    expect(state('nameServer.starting').notes).toContain('invoke startUp');

    const edges = graph.transitions.map(
      (t: Transition) => `${t.sourceId} -> ${t.targetId}: ${t.label}${t.guard ? ` [${t.guard}]` : ''}`,
    );
    expect(edges).toContain(
      'nameServer.waiting -> nameServer.timedOut.serving: after waitTimeout [servesAfterTimeout]',
    );
    expect(edges).toContain('nameServer.waiting -> nameServer.timedOut.refusing: after waitTimeout');
    expect(edges).toContain('nameServer.waiting.holding -> nameServer.waiting.targetPending: after waitForService');
    expect(edges).toContain('nameServer.waiting.targetPending -> nameServer.ready: always [waitTargetMet]');
    expect(edges).toContain('nameServer.starting -> nameServer.waiting: done: startUp [needWaitForService]');
    expect(edges).toContain('nameServer.starting -> nameServer.failed: error: startUp');
    expect(edges).toContain('nameServer.ready -> nameServer.stopping.serving: STOP');
  });

  it("draws the same arrows from xstate's toJSON() shape as from the config, but for eventless ones toJSON() leaves out", async () => {
    const { machineGraph } = await page('chart/machineGraph.js');
    for (const machine of [nameServerMachine, brokerMachine]) {
      const fromConfig = machineGraph(exportMachineConfig(machine).config);
      const fromDefinition = machineGraph(JSON.parse(JSON.stringify(machine.toJSON())));
      const arrows = (graph: { transitions: Transition[] }) =>
        graph.transitions
          .filter((t) => t.kind !== 'always')
          .map((t) => `${t.sourceId}>${t.targetId}:${t.label}:${t.guard ?? ''}`)
          .sort();
      expect(arrows(fromDefinition)).toEqual(arrows(fromConfig));
    }
  });

  it('lights a state and every parent', async () => {
    const { activeStateIds } = await page('chart/machineGraph.js');
    expect(activeStateIds('nameServer', 'waiting.holding')).toEqual([
      'nameServer',
      'nameServer.waiting',
      'nameServer.waiting.holding',
    ]);
    expect(activeStateIds('broker', 'registered')).toEqual(['broker', 'broker.registered']);
  });
});

describe('which arrow a streamed transition took', () => {
  it('finds the arrow by event, delay, invoke result or eventless guard, and the initial arrows on the way in', async () => {
    const { machineGraph } = await page('chart/machineGraph.js');
    const { matchTransition } = await page('chart/transitionMatch.js');
    const ns = machineGraph(nameServerConfig());
    const broker = machineGraph(brokerConfig());
    const describe = (graph: { transitions: Transition[] }, ids: string[]) =>
      ids.map((id) => (id.startsWith('initial:') ? id : graph.transitions.find((t) => t.id === id)!.label));

    expect(describe(ns, matchTransition(ns, { from: null, to: 'starting', event: 'xstate.init' }))).toEqual([
      'initial:nameServer',
    ]);
    expect(
      describe(
        ns,
        matchTransition(ns, {
          from: 'starting',
          to: 'waiting.holding',
          event: 'xstate.done.actor.0.nameServer.starting',
        }),
      ),
    ).toEqual(['done: startUp', 'initial:nameServer.waiting']);
    expect(
      describe(
        ns,
        matchTransition(ns, {
          from: 'waiting.holding',
          to: 'waiting.targetPending',
          event: 'xstate.after.waitForService.nameServer.waiting.holding',
        }),
      ),
    ).toEqual(['after waitForService']);
    // BROKER.LIVE has no arrow of its own: it completed the target, the eventless arrow moved.
    expect(
      describe(ns, matchTransition(ns, { from: 'waiting.targetPending', to: 'ready', event: 'BROKER.LIVE' })),
    ).toEqual(['always']);
    const timeout = matchTransition(ns, {
      from: 'waiting.targetPending',
      to: 'timedOut.refusing',
      event: 'xstate.after.waitTimeout.nameServer.waiting',
    });
    expect(ns.transitions.find((t: Transition) => t.id === timeout[0]).targetId).toBe('nameServer.timedOut.refusing');

    expect(
      describe(broker, matchTransition(broker, { from: 'registered', to: 'registered', event: 'HEARTBEAT' })),
    ).toEqual(['HEARTBEAT']);
    expect(
      describe(
        broker,
        matchTransition(broker, {
          from: 'registered',
          to: 'expired',
          event: 'xstate.after.heartbeatTimeout.broker.registered',
        }),
      ),
    ).toEqual(['after heartbeatTimeout']);
  });
});

describe('chart layout (elkjs)', () => {
  it('nests every state inside its parent, and no arrow label sits on a state box', async () => {
    (globalThis as { ELK?: unknown }).ELK = ELK;
    const { machineGraph } = await page('chart/machineGraph.js');
    const { layoutChart } = await page('chart/chartLayout.js');
    // Text widths as a monospace 7 px per character: the layout only needs them consistent.
    const measure = (text: string) => text.length * 7;
    for (const [config, direction] of [
      [nameServerConfig(), 'DOWN'],
      [brokerConfig(), 'RIGHT'],
    ] as const) {
      const graph = machineGraph(config);
      const layout = await layoutChart(graph, measure, { direction });
      type Box = { x: number; y: number; width: number; height: number };
      const placed = new Map<string, Box & { state: { id: string; parentId: string | null; childIds: string[] } }>(
        layout.states.map((p: Box & { state: { id: string } }) => [p.state.id, p]),
      );
      expect(placed.size).toBe(graph.states.size);
      const inside = (inner: Box, outer: Box) =>
        inner.x >= outer.x - 0.5 &&
        inner.y >= outer.y - 0.5 &&
        inner.x + inner.width <= outer.x + outer.width + 0.5 &&
        inner.y + inner.height <= outer.y + outer.height + 0.5;
      const overlap = (a: Box, b: Box) =>
        a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
      for (const p of placed.values()) {
        if (p.state.parentId)
          expect(inside(p, placed.get(p.state.parentId)!), `${p.state.id} inside its parent`).toBe(true);
      }
      const atomic = [...placed.values()].filter((p) => p.state.childIds.length === 0);
      for (const edge of layout.edges as Array<{ id: string; label?: Box & { lines: string[] }; points: unknown[] }>) {
        expect(edge.points.length, `${edge.id} is routed`).toBeGreaterThanOrEqual(2);
        if (!edge.label) continue;
        for (const box of atomic)
          expect(overlap(edge.label, box), `label "${edge.label.lines.join(' ')}" on ${box.state.id}`).toBe(false);
      }
    }
  }, 30_000);
});

describe('transition log', () => {
  const transition = (seq: number, machine = 'broker', actorId = `C|10.0.0.${seq}:10911`, event = 'HEARTBEAT') => ({
    kind: 'transition',
    seq,
    at: seq,
    machine,
    actorId,
    event,
    from: 'registered',
    to: 'registered',
  });

  it('keeps the newest up to its capacity, newest first, filtered as entries arrive', async () => {
    const { TransitionLog } = await page('model/transitionLog.js');
    const log = new TransitionLog(5);
    for (let seq = 1; seq <= 8; seq++)
      log.add(transition(seq, seq % 2 ? 'broker' : 'nameServer', seq % 2 ? `C|a${seq}` : 'nameServer'));
    expect(log.length).toBe(5);
    expect(log.newestFirst(0).seq).toBe(8);
    expect(log.newestFirst(4).seq).toBe(4);
    log.setFilter({ machine: 'nameServer', actor: '', event: '' });
    expect([0, 1, 2].map((i) => log.newestFirst(i)?.seq)).toEqual([8, 6, 4]);
    log.add(transition(9, 'broker'));
    log.add(transition(10, 'nameServer', 'nameServer'));
    expect(log.newestFirst(0).seq).toBe(10);
    // 4 fell off with the capacity: 10, 8, 6 pass the filter.
    expect(log.length).toBe(3);
    log.setFilter({ machine: '', actor: '', event: 'heart' });
    expect(log.length).toBe(5);
    // A reset marker is never filtered away.
    log.add({ kind: 'reset', at: 11, text: 'reset (gap)' });
    log.setFilter({ machine: 'nameServer', actor: 'nothing-matches', event: '' });
    expect(log.length).toBe(1);
    expect(log.newestFirst(0).kind).toBe('reset');
  });

  it('takes the history from before the connection below what it has, and finds where a pause began', async () => {
    const { TransitionLog } = await page('model/transitionLog.js');
    const log = new TransitionLog(6);
    log.add(transition(10));
    log.add(transition(11));
    const pausedAt = log.newestN;
    log.add(transition(12));
    log.prependOlder([1, 2, 3, 4, 5, 6].map((seq) => transition(seq)));
    // Room for 4 of the 6 older ones: the oldest go.
    expect(Array.from({ length: log.length }, (_, i) => log.newestFirst(i).seq)).toEqual([12, 11, 10, 6, 5, 4]);
    expect(log.newestFirst(log.indexOfN(pausedAt)).seq).toBe(11);
  });
});

describe('route diff', () => {
  const route = (queues: Record<string, { perm: number; write?: number }>, addresses: Record<string, string> = {}) => ({
    brokerDatas: Object.keys(queues).map((brokerName) => ({
      cluster: 'C',
      brokerName,
      brokerAddrs: { 0: addresses[brokerName] ?? `${brokerName}:10911` },
    })),
    queueDatas: Object.entries(queues).map(([brokerName, q]) => ({
      brokerName,
      readQueueNums: 4,
      writeQueueNums: q.write ?? 4,
      perm: q.perm,
      topicSysFlag: 0,
    })),
  });

  it('marks brokers added and removed, and the fields that changed', async () => {
    const { diffRoutes } = await page('model/routeDiff.js');
    const changes = diffRoutes(
      route({ a: { perm: 6 }, b: { perm: 6 } }),
      route({ a: { perm: 4 }, c: { perm: 6, write: 8 } }),
    );
    const summary = changes.map(
      (c: { status: string; row: { brokerName: string }; fields: Set<string> }) =>
        `${c.row.brokerName}:${c.status}:${[...c.fields].join(',')}`,
    );
    expect(summary).toEqual(['a:changed:perm', 'b:removed:', 'c:added:']);
    expect(diffRoutes(null, route({ a: { perm: 6 } }))[0].status).toBe('added');
    expect(diffRoutes(route({ a: { perm: 6 } }), null)[0].status).toBe('removed');
    expect(diffRoutes(route({ a: { perm: 6 } }), route({ a: { perm: 6 } }))[0].status).toBe('same');
  });
});

describe('divergence between name servers', () => {
  const dv = (counter: number) => ({ counter, timestamp: 1 });

  it('flags a broker live on one and missing or expired on another, and a different DataVersion; ignores name servers it cannot reach', async () => {
    const { brokerDivergence, nameServerProblem } = await page('model/divergence.js');
    const cell = (nameServer: string, state: string, connected = true, counter = 1) => ({
      nameServer,
      connected,
      state,
      dataVersion: state === 'registered' ? dv(counter) : undefined,
    });
    expect(brokerDivergence([cell('a', 'registered'), cell('b', 'registered')])).toEqual([]);
    expect(brokerDivergence([cell('a', 'registered'), cell('b', 'absent')])).toEqual(['live on a; absent on b']);
    expect(brokerDivergence([cell('a', 'registered'), cell('b', 'expired')])).toEqual(['live on a; expired on b']);
    expect(brokerDivergence([cell('a', 'registered', true, 1), cell('b', 'registered', true, 2)])).toEqual([
      'DataVersion differs: 1@1 on a; 2@1 on b',
    ]);
    // What an unreachable name server holds is unknown: it is flagged itself, not every broker.
    expect(brokerDivergence([cell('a', 'registered'), cell('b', 'absent', false)])).toEqual([]);
    // Gone everywhere is agreement.
    expect(brokerDivergence([cell('a', 'expired'), cell('b', 'absent')])).toEqual([]);
    expect(nameServerProblem({ nameServer: 'a', connected: true, ready: false, detail: 'waiting.holding' })).toBe(
      'not ready (waiting.holding)',
    );
    expect(nameServerProblem({ nameServer: 'a', connected: false, ready: undefined, detail: undefined })).toBe(
      'not connected',
    );
    expect(nameServerProblem({ nameServer: 'a', connected: true, ready: true, detail: 'ready' })).toBeNull();
  });
});

describe('name server addresses', () => {
  it('puts this page first, then the settings, the URL and the edit box, without duplicates', async () => {
    const { mergeAddresses, parseAddressList } = await page('gateway/nameServerAddresses.js');
    expect(parseAddressList('ns1:9877, ns2:9877;http://NS3:9877/ ns1:9877')).toEqual([
      'ns1:9877',
      'ns2:9877',
      'ns3:9877',
    ]);
    expect(mergeAddresses('ns1:9877', ['ns2:9877'], ['ns1:9877', 'ns3:9877'])).toEqual([
      'ns1:9877',
      'ns2:9877',
      'ns3:9877',
    ]);
  });
});

describe('name server state', () => {
  const snapshot = (brokers: object[]) => ({
    server: { name: 'xnamesrv', version: '0', instanceId: 'i' },
    lifecycle: {
      state: 'ready',
      detail: 'ready',
      since: 0,
      tags: ['live', 'ready', 'servingRoutes'],
      live: true,
      ready: true,
      servingRoutes: true,
      waitTarget: { met: true, liveBrokers: brokers.length, missing: [] },
      waitTimeoutAction: 'serve',
      degraded: [],
    },
    brokers,
  });
  const broker = {
    brokerKey: 'C|a:1',
    clusterName: 'C',
    brokerName: 'b',
    brokerAddr: 'a:1',
    brokerId: 0,
    state: 'registered',
    generation: 2,
    lastRefresh: 100,
    heartbeatTimeoutMillis: 10_000,
    dataVersion: { counter: 1, timestamp: 1 },
    topicCount: 3,
  };

  it('follows broker transitions, keeps ended brokers for a while, and takes details only from the same or a newer generation', async () => {
    const { NameServerState, GONE_RETENTION_MS } = await page('model/nameServerState.js');
    const changed: string[] = [];
    const state = new NameServerState('ns', {
      brokersChanged: (keys: Iterable<string>) => changed.push(...keys),
      lifecycleChanged: () => undefined,
    });
    state.applySnapshot(snapshot([broker]));
    const t = (seq: number, to: string, event: string, generation = 2) => ({
      type: 'transition',
      seq,
      at: 1000 + seq,
      actorId: 'C|a:1',
      machine: 'broker',
      from: 'registered',
      to,
      event,
      context: { clusterName: 'C', brokerName: 'b', brokerAddr: 'a:1', brokerId: 0, generation },
    });
    expect(state.applyTransition(t(5, 'registered', 'HEARTBEAT'))).toBe(false);
    expect(state.brokers.get('C|a:1').lastRefresh).toBe(1005);
    expect(state.applyTransition(t(6, 'registered', 'REGISTER', 3))).toBe(true);
    state.applyBrokerDetails([{ ...broker, generation: 2, topicCount: 99 }]);
    expect(state.brokers.get('C|a:1').topicCount).toBe(3);
    state.applyBrokerDetails([{ ...broker, generation: 3, topicCount: 4, lastRefresh: 2000 }]);
    expect(state.brokers.get('C|a:1').topicCount).toBe(4);
    state.applyTransition(t(7, 'expired', 'xstate.after.heartbeatTimeout.broker.registered', 3));
    const record = state.brokers.get('C|a:1');
    expect(record.state).toBe('expired');
    expect(record.history.map((h: { seq: number }) => h.seq)).toEqual([5, 6, 7]);
    state.sweepGone(record.goneAt + GONE_RETENTION_MS - 1);
    expect(state.brokers.has('C|a:1')).toBe(true);
    state.sweepGone(record.goneAt + GONE_RETENTION_MS + 1);
    expect(state.brokers.has('C|a:1')).toBe(false);
    expect(changed.filter((key) => key === 'C|a:1').length).toBeGreaterThanOrEqual(5);
  });

  it('reads name server transitions into the lifecycle until getLifecycle brings the rest', async () => {
    const { NameServerState } = await page('model/nameServerState.js');
    const state = new NameServerState('ns', { brokersChanged: () => undefined, lifecycleChanged: () => undefined });
    state.applySnapshot({
      ...snapshot([]),
      lifecycle: {
        ...snapshot([]).lifecycle,
        state: 'waiting',
        detail: 'waiting.targetPending',
        tags: ['live'],
        ready: false,
        servingRoutes: false,
      },
    });
    state.applyTransition({
      type: 'transition',
      seq: 9,
      at: 50,
      actorId: 'nameServer',
      machine: 'nameServer',
      from: 'waiting.targetPending',
      to: 'ready',
      tags: ['live', 'ready', 'servingRoutes'],
      event: 'BROKER.LIVE',
      context: { liveBrokers: 2 },
    });
    expect(state.lifecycle).toMatchObject({
      state: 'ready',
      detail: 'ready',
      ready: true,
      servingRoutes: true,
      since: 50,
      waitTarget: { liveBrokers: 2 },
    });
  });
});

describe('errors in words', () => {
  it("shows an Error's message, and any other thrown value as a string", async () => {
    const { errorMessage } = await page('lib/format.js');
    expect(errorMessage(new TypeError('not connected'))).toBe('not connected');
    expect(errorMessage('refused')).toBe('refused');
    expect(errorMessage(undefined)).toBe('undefined');
  });
});

describe('index.html', () => {
  it('preloads exactly the modules the page runs, so none is missing and none is fetched in vain', () => {
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir)) {
        const path = join(dir, entry);
        if (statSync(path).isDirectory()) walk(path);
        else if (entry.endsWith('.js')) files.push(relative(pageDir, path).split(sep).join('/'));
      }
    };
    walk(pageDir);
    // main.js is the entry; the worker is started by URL; protocol.js holds JSDoc types only.
    const expected = files.filter((f) => !['main.js', 'chart/elkWorker.js', 'gateway/protocol.js'].includes(f)).sort();
    const html = readFileSync(join(pageDir, 'index.html'), 'utf8');
    const preloaded = [...html.matchAll(/<link rel="modulepreload" href="\/console\/([^"]+)"\s*\/?>/g)]
      .map((m) => m[1])
      .sort();
    expect(preloaded).toEqual(expected);
  });
});
