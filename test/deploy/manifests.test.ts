import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { checkReadiness, readinessUrl } from '../../src/cli/healthcheck.js';
import { CONFIG_FILE_ENV, loadConfig } from '../../src/config/load.js';
import { parseProperties } from '../../src/config/properties.js';
import { CONFIG_KEYS, envNameOf, isConfigKey, type NamesrvOptions } from '../../src/config/schema.js';
import { registerBroker } from '../support/broker.js';
import { startTestServer, type TestServer } from '../support/harness.js';

/**
 * The Dockerfile and deploy/kubernetes/ name ports, paths, probe routes and
 * configuration keys that live in the code. Everything they name is checked
 * here against the schema, the configuration loader and a running server, so
 * neither can change without the other.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const K8S = join(ROOT, 'deploy', 'kubernetes');
const read = (...parts: string[]) => readFileSync(join(ROOT, ...parts), 'utf8');

// ---- the Dockerfile ---------------------------------------------------------

interface Instruction {
  keyword: string;
  args: string;
}

interface Stage {
  base: string;
  name: string | undefined;
  instructions: Instruction[];
}

/** Instructions by stage, continuation lines joined, comments dropped, build ARGs substituted. */
function parseDockerfile(text: string): { stages: Stage[]; args: Map<string, string> } {
  const logical: string[] = [];
  let pending = '';
  for (const line of text.split('\n')) {
    if (pending === '' && /^\s*#/.test(line)) continue;
    if (/\\\s*$/.test(line)) {
      pending += line.replace(/\\\s*$/, ' ');
      continue;
    }
    logical.push(pending + line);
    pending = '';
  }
  const args = new Map<string, string>();
  const stages: Stage[] = [];
  for (const line of logical) {
    const match = /^\s*([A-Za-z]+)\s+(.*)$/.exec(line);
    if (!match) continue;
    const keyword = match[1]!.toUpperCase();
    const rest = match[2]!.trim().replace(/\$\{(\w+)\}/g, (_, name: string) => args.get(name) ?? '');
    if (keyword === 'ARG' && stages.length === 0) {
      const [name, value = ''] = rest.split('=');
      args.set(name!, value);
    } else if (keyword === 'FROM') {
      const [base, as, name] = rest.split(/\s+/);
      stages.push({ base: base!, name: as?.toUpperCase() === 'AS' ? name : undefined, instructions: [] });
    } else {
      stages[stages.length - 1]!.instructions.push({ keyword, args: rest });
    }
  }
  return { stages, args };
}

const dockerfile = parseDockerfile(read('Dockerfile'));
const runtime = dockerfile.stages[dockerfile.stages.length - 1]!;
const all = (keyword: string) => runtime.instructions.filter((i) => i.keyword === keyword).map((i) => i.args);
const only = (keyword: string) => {
  const found = all(keyword);
  expect(found, `one ${keyword} in the runtime stage`).toHaveLength(1);
  return found[0]!;
};
/** ENV a=b, ENV a b */
const imageEnv: Record<string, string> = Object.fromEntries(
  all('ENV').map((args) => {
    const match = /^(\w+)(?:=|\s+)(.*)$/.exec(args)!;
    return [match[1]!, match[2]!];
  }),
);

// ---- the Kubernetes manifests -------------------------------------------------

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec?: any;
}

const kustomization = parseYaml(read('deploy', 'kubernetes', 'kustomization.yaml'))[0] as any;
const manifests = (kustomization.resources as string[]).flatMap(
  (file) => parseYaml(read('deploy', 'kubernetes', file)) as Manifest[],
);
const ofKind = (kind: string): Manifest[] => manifests.filter((m) => m.kind === kind);
const one = (kind: string): Manifest => {
  const found = ofKind(kind);
  expect(found, `one ${kind}`).toHaveLength(1);
  return found[0]!;
};

function parseYaml(text: string): unknown[] {
  return parseAllDocuments(text).map((doc) => {
    expect(doc.errors).toEqual([]);
    return doc.toJS();
  });
}

const statefulSet = one('StatefulSet');
const service = one('Service');
const podSpec = statefulSet.spec.template.spec;
const container = podSpec.containers[0];
const generator = (kustomization.configMapGenerator as any[]).find((g) =>
  podSpec.volumes.some((v: any) => v.configMap?.name === g.name),
);
const propertiesFile: string = generator.files[0];
const propertiesText = read('deploy', 'kubernetes', propertiesFile);
const containerPort = (name: string): number => container.ports.find((p: any) => p.name === name).containerPort;
const mountOf = (volume: string): any => container.volumeMounts.find((m: any) => m.name === volume);

/** The container's environment, the image's beneath it, with the ConfigMap's file where the pod would see it. */
function podEnvironment(): Record<string, string> {
  const env: Record<string, string> = { ...imageEnv };
  for (const entry of container.env as any[]) {
    // Secret values are not in the manifests; any value shows the variable is read.
    env[entry.name] = entry.value ?? 'a-secret-token';
  }
  const configMount = mountOf(podSpec.volumes.find((v: any) => v.configMap).name);
  expect(env[CONFIG_FILE_ENV]).toBe(`${configMount.mountPath}/${propertiesFile}`);
  env[CONFIG_FILE_ENV] = join(K8S, propertiesFile);
  return env;
}

/** What xnamesrv makes of the pod's configuration: the same loader, the same checks, as at start. */
function podConfig(): NamesrvOptions {
  const loaded = loadConfig({ argv: [], env: podEnvironment(), homeDir: '/home/node' });
  if (!loaded.ok) throw new Error(`the pod's configuration does not load:\n${loaded.errors.join('\n')}`);
  return loaded.config;
}

function imageConfig(): NamesrvOptions {
  const loaded = loadConfig({ argv: [], env: imageEnv, homeDir: '/home/node' });
  if (!loaded.ok) throw new Error(`the image's configuration does not load:\n${loaded.errors.join('\n')}`);
  return loaded.config;
}

/** The pods' DNS names under the headless Service: <statefulset>-<i>.<service>.<namespace>.svc */
function podHosts(): string[] {
  return Array.from(
    { length: statefulSet.spec.replicas as number },
    (_, i) => `${statefulSet.metadata.name}-${i}.${service.metadata.name}.${kustomization.namespace}.svc`,
  );
}

/** `| 5 memory | 32 x 10k: RSS bytes per entry (...) | 496 (215 MiB) |` -> 215 */
function measuredRssMiB(scale: string): number {
  const row = read('bench', 'README.md')
    .split('\n')
    .find((line) => line.includes(`${scale}: RSS`));
  const mib = row && /\((\d+) MiB\)/.exec(row);
  if (!mib) throw new Error(`bench/README.md has no "${scale}: RSS ... (N MiB)" row`);
  return Number(mib[1]);
}

const mebibytes = (quantity: string): number => {
  const match = /^(\d+)(Mi|Gi)$/.exec(quantity);
  if (!match) throw new Error(`unexpected memory quantity ${quantity}`);
  return Number(match[1]) * (match[2] === 'Gi' ? 1024 : 1);
};

describe('Dockerfile', () => {
  it('builds in one stage with the dev dependencies and runs from a slim Node 20 or 22 with production ones only', () => {
    expect(dockerfile.stages.length).toBeGreaterThanOrEqual(2);
    const build = dockerfile.stages[0]!;
    expect(build.instructions.some((i) => i.keyword === 'RUN' && /^npm ci(\s|$)/.test(i.args))).toBe(true);
    expect(build.instructions.some((i) => i.keyword === 'RUN' && /tsc -p tsconfig\.build\.json/.test(i.args))).toBe(
      true,
    );
    expect(runtime.base).toMatch(/^node:(20|22)(\.\d+)*-[a-z]+-slim$|^node:(20|22)(\.\d+)*-slim$/);
    expect(all('RUN').some((args) => /npm ci --omit=dev/.test(args))).toBe(true);
    expect(all('COPY')).toContain(`--from=${build.name} /build/dist ./dist`);
    // The console is served from the page's sources at run time.
    expect(all('COPY')).toContain('src/console/page ./src/console/page');
    expect(existsSync(join(ROOT, 'src', 'console', 'page', 'index.html'))).toBe(true);
  });

  it('runs as a numeric non-root user, the one the StatefulSet runs as and the data directory belongs to', () => {
    const [uid, gid] = only('USER').split(':').map(Number);
    expect(uid).toBeGreaterThan(0);
    expect(podSpec.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: uid,
      runAsGroup: gid,
      fsGroup: gid,
    });
    expect(all('RUN').some((args) => args.includes(`chown ${uid}:${gid} ${imageEnv.XNAMESRV_DATA_DIR}`))).toBe(true);
  });

  it('reads only XNAMESRV_* variables xnamesrv knows, and its effective configuration loads', () => {
    const known = new Set([CONFIG_FILE_ENV, ...CONFIG_KEYS.map((key) => envNameOf(key.name))]);
    for (const name of Object.keys(imageEnv).filter((n) => n.startsWith('XNAMESRV_'))) expect(known).toContain(name);
    expect(imageConfig().dataDir).toBe(imageEnv.XNAMESRV_DATA_DIR);
  });

  it('exposes the remoting and HTTP ports, bound to every interface, and declares the data directory a volume', () => {
    const config = imageConfig();
    expect(only('EXPOSE').split(/\s+/).map(Number)).toEqual([config.listenPort, config.httpPort]);
    expect(config.bindAddress).toBe('0.0.0.0');
    expect(JSON.parse(only('VOLUME'))).toEqual([config.dataDir]);
    // kvConfig.json and the runtime-updated properties land in the volume.
    expect(config.kvConfigPath).toBe(`${config.dataDir}/kvConfig.json`);
    expect(config.configStorePath).toBe(`${config.dataDir}/namesrv.properties`);
  });

  it('checks health with node itself on /readyz, and starts the CLI the package ships', () => {
    const healthcheck = /^(.*?)CMD (\[.*\])$/.exec(only('HEALTHCHECK'))!;
    const command = JSON.parse(healthcheck[2]!) as string[];
    expect(command[0]).toBe('node');
    expect(command[1]).toBe('dist/src/cli/healthcheck.js');
    expect(existsSync(join(ROOT, 'src', 'cli', 'healthcheck.ts'))).toBe(true);
    expect(readinessUrl(imageConfig())).toBe(`http://127.0.0.1:${imageConfig().httpPort}/readyz`);
    // The start period covers the longest wait for brokers of the defaults.
    const startPeriod = /--start-period=(\d+)m/.exec(healthcheck[1]!);
    expect(Number(startPeriod?.[1]) * 60).toBeGreaterThanOrEqual(imageConfig().waitTimeoutSeconds);

    const packageJson = JSON.parse(read('package.json'));
    expect(JSON.parse(only('ENTRYPOINT'))).toEqual(['node', packageJson.bin.xnamesrv]);
    expect(packageJson.scripts['docker:build']).toMatch(/^docker build .* \.$/);
  });
});

describe('deploy/kubernetes', () => {
  it('kustomization: every resource, the namespace and the ConfigMap generated from namesrv.properties', () => {
    expect(one('Namespace').metadata.name).toBe(kustomization.namespace);
    expect(generator.files).toEqual(['namesrv.properties']);
    expect(kustomization.images).toEqual([{ name: container.image, newTag: JSON.parse(read('package.json')).version }]);
  });

  it("namesrv.properties: every key is xnamesrv's, and the pod's whole configuration loads as at start", () => {
    const parsed = parseProperties(propertiesText);
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
    for (const key of parsed.values.keys()) expect(isConfigKey(key), `${key} is a configuration key`).toBe(true);
    const config = podConfig();
    expect(config.needWaitForService).toBe(true);
    expect(config.waitForBrokers > 0 || config.waitForBrokerNames.length > 0).toBe(true);
    // Bounded: a rollout without brokers is slowed, never stuck.
    expect(config.waitTimeoutAction).toBe('serve');
  });

  it('every XNAMESRV_* variable of the pod is a configuration key (or the config file)', () => {
    const known = new Set([CONFIG_FILE_ENV, ...CONFIG_KEYS.map((key) => envNameOf(key.name))]);
    for (const entry of container.env as Array<{ name: string }>) expect(known).toContain(entry.name);
  });

  it('ports: the container and the Service name the ports xnamesrv listens on', () => {
    const config = podConfig();
    expect(containerPort('remoting')).toBe(config.listenPort);
    expect(containerPort('http')).toBe(config.httpPort);
    expect(config.bindAddress).toBe('0.0.0.0');
    const servicePorts = Object.fromEntries(service.spec.ports.map((p: any) => [p.targetPort, p.port]));
    expect(servicePorts).toEqual({ remoting: config.listenPort, http: config.httpPort });
  });

  it('the data directory: the image volume is the claim mounted in the pod, and runtime updates are stored there', () => {
    const data = mountOf('data');
    expect(data.mountPath).toBe(imageEnv.XNAMESRV_DATA_DIR);
    expect(data.readOnly ?? false).toBe(false);
    expect(statefulSet.spec.volumeClaimTemplates.map((c: any) => c.metadata.name)).toEqual(['data']);
    const config = podConfig();
    expect(config.dataDir).toBe(data.mountPath);
    expect(config.kvConfigPath.startsWith(`${data.mountPath}/`)).toBe(true);
    // The ConfigMap is mounted read-only, so the properties file cannot take runtime updates.
    expect(mountOf('config').readOnly).toBe(true);
    expect(config.configStorePath.startsWith(`${data.mountPath}/`)).toBe(true);
  });

  it('probes: liveness on /livez and readiness on /readyz, never the same path, on the HTTP port', () => {
    expect(container.livenessProbe.httpGet).toEqual({ path: '/livez', port: 'http' });
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
  });

  it('a headless Service that publishes waiting pods, three pods started in parallel, one replaced at a time', () => {
    expect(service.spec.clusterIP).toBe('None');
    expect(service.spec.publishNotReadyAddresses).toBe(true);
    expect(statefulSet.spec.serviceName).toBe(service.metadata.name);
    expect(statefulSet.spec.replicas).toBe(3);
    expect(statefulSet.spec.podManagementPolicy).toBe('Parallel');
    expect(statefulSet.spec.updateStrategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } });
    const podLabels = statefulSet.spec.template.metadata.labels;
    expect(podLabels).toMatchObject(service.spec.selector);
    expect(podLabels).toMatchObject(statefulSet.spec.selector.matchLabels);
    const budget = one('PodDisruptionBudget');
    expect(budget.spec.maxUnavailable).toBe(1);
    expect(podLabels).toMatchObject(budget.spec.selector.matchLabels);
  });

  it('the name server lists name the pods by their stable DNS names and ports', () => {
    const config = podConfig();
    const hosts = podHosts();
    expect(config.namesrvAddrList).toEqual(hosts.map((host) => `${host}:${config.listenPort}`));
    expect(config.consoleNameServers).toEqual(hosts.map((host) => `${host}:${config.httpPort}`));
    expect(config.gatewayAllowedOrigins).toEqual(hosts.map((host) => `http://${host}:${config.httpPort}`));
  });

  it("each pod's console shows itself first and the other two, from the one shared list", async () => {
    const { mergeAddresses } = (await import(
      pathToFileURL(join(ROOT, 'src', 'console', 'page', 'gateway', 'nameServerAddresses.js')).href
    )) as { mergeAddresses: (self: string, ...lists: string[][]) => string[] };
    const config = podConfig();
    for (const self of config.consoleNameServers) {
      const shown = mergeAddresses(self, [...config.consoleNameServers]);
      expect(shown[0]).toBe(self);
      expect([...shown].sort()).toEqual([...config.consoleNameServers].sort());
    }
  });

  it('memory: the request covers the measured RSS of 32 brokers x 10k topics, the limit that of 300 x 10k', () => {
    const resources = container.resources;
    expect(mebibytes(resources.requests.memory)).toBeGreaterThanOrEqual(measuredRssMiB('32 x 10k'));
    expect(mebibytes(resources.limits.memory)).toBeGreaterThanOrEqual(measuredRssMiB('300 x 10k'));
    expect(resources.limits.cpu).toBeUndefined();
  });
});

describe('the probes and the HEALTHCHECK on a name server configured as the pods are', () => {
  let t: TestServer;
  let waitSeconds: number;
  beforeAll(async () => {
    // The pod's configuration, on 127.0.0.1 and free ports.
    const config = podConfig();
    const parsed = parseProperties(propertiesText);
    if (!parsed.ok) throw new Error('unparsable');
    const settings: Record<string, string> = {};
    for (const key of parsed.values.keys()) {
      if (key === 'listenPort' || key === 'httpPort' || key === 'bindAddress' || !isConfigKey(key)) continue;
      const value = config[key];
      settings[key] = Array.isArray(value) ? value.join(',') : String(value);
    }
    waitSeconds = config.waitSecondsForService;
    t = await startTestServer(settings);
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('waiting for brokers: alive, not ready, and the address list is served', async () => {
    expect(t.server.lifecycleState()).toBe('waiting');
    expect((await t.http(container.livenessProbe.httpGet.path)).status).toBe(200);
    expect((await t.http(container.readinessProbe.httpGet.path)).status).toBe(503);
    expect((await t.http('/rocketmq/nsaddr')).text).toBe(podConfig().namesrvAddrList.join(';'));
    const result = await checkReadiness(`http://127.0.0.1:${t.server.httpPort}/readyz`, 3_000);
    expect(result).toEqual({
      ready: false,
      line: 'not ready (HTTP 503): waiting.holding; waiting 45 s (waitSecondsForService) for brokers to register; missing live master for DefaultCluster/broker-a',
    });
  });

  it('the compiled HEALTHCHECK script finds the port from XNAMESRV_* and exits 1 while waiting', async () => {
    const run = await runHealthcheckScript(t.server.httpPort);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^not ready \(HTTP 503\): waiting\./);
  });

  it('ready once the wait target registered and the hold passed: readiness and HEALTHCHECK turn 200 / 0', async () => {
    const client = await t.client();
    const [cluster, brokerName] = podConfig().waitForBrokerNames[0]!.split('/');
    await registerBroker(client, { clusterName: cluster!, brokerName: brokerName!, brokerAddr: '127.0.0.1:10911' });
    t.clock.increment(waitSeconds * 1000);
    expect((await t.http(container.readinessProbe.httpGet.path)).status).toBe(200);
    expect((await t.http(container.livenessProbe.httpGet.path)).status).toBe(200);
    const run = await runHealthcheckScript(t.server.httpPort);
    expect([run.code, run.stdout]).toEqual([0, 'ready: ready\n']);
  });
});

describe('the HEALTHCHECK script when there is no ready server to ask', () => {
  it('exits 1 saying so when nothing answers on the port, or when the configuration does not load', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const nobody = await runHealthcheckScript(port);
    expect(nobody.code).toBe(1);
    expect(nobody.stdout).toMatch(new RegExp(`^not ready: no answer from http://127\\.0\\.0\\.1:${port}/readyz: `));

    const badConfig = await runHealthcheckScript(9877, { XNAMESRV_HTTP_PORT: 'ninety' });
    expect(badConfig.code).toBe(1);
    expect(badConfig.stdout).toMatch(/^not ready: configuration: httpPort: expected a port number/);
  });
});

/** `node dist/src/cli/healthcheck.js` (built by `npm test`), as the image runs it, pointed at a test server's port. */
async function runHealthcheckScript(
  httpPort: number,
  extraEnv: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'xnamesrv-healthcheck-'));
  try {
    return await new Promise((resolve) => {
      const child = spawn(process.execPath, [join(ROOT, 'dist', 'src', 'cli', 'healthcheck.js')], {
        env: {
          PATH: process.env.PATH ?? '',
          ...imageEnv,
          XNAMESRV_DATA_DIR: dataDir,
          XNAMESRV_HTTP_PORT: String(httpPort),
          ...extraEnv,
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let stdout = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.on('close', (code) => resolve({ code, stdout }));
    });
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}
