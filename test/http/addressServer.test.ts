import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { RequestCode, ResponseCode } from '../../src/remoting/requestCode.js';
import { spawnCli } from '../support/spawnedCli.js';
import { startTestServer, type TestServer } from '../support/harness.js';

/**
 * The address-server lookup as RocketMQ's Java client and broker make it
 * (common/.../MixAll.getWSAddr, common/.../namesrv/DefaultTopAddressing,
 * common/.../utils/HttpTinyClient), rebuilt from their behaviour, against a
 * real xnamesrv.
 */

/** MixAll.getWSAddr: `:8080` is added unless the domain has a colon after its first character. */
function wsAddr(domain: string, subGroup = 'nsaddr'): string {
  const hostAndPort = domain.indexOf(':') > 0 ? domain : `${domain}:8080`;
  return `http://${hostAndPort}/rocketmq/${subGroup}`;
}

/** DefaultTopAddressing: a non-blank unit name adds `-<unit>?nofix=1`. */
function lookupUrl(wsAddress: string, unitName?: string): string {
  return unitName !== undefined && unitName.trim() !== '' ? `${wsAddress}-${unitName}?nofix=1` : wsAddress;
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * HttpTinyClient.httpGet: GET with its three headers (and the ones
 * HttpURLConnection adds), sent to the server's real port, whatever port the
 * URL names (a domain without a port means 8080, which a test cannot bind).
 */
function javaGet(url: string, actualPort: number, method = 'GET'): Promise<Answer> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: actualPort,
        method,
        path: `${target.pathname}${target.search}`,
        headers: {
          Host: target.host,
          'Client-Version': 'V5_3_3',
          'Content-Type': 'application/x-www-form-urlencoded;charset=UTF-8',
          'Metaq-Client-RequestTS': String(Date.now()),
          'User-Agent': 'Java/17.0.12',
          Accept: 'text/html, image/gif, image/jpeg, *; q=.2, */*; q=.2',
        },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/**
 * DefaultTopAddressing.fetchNSAddr and its callers: only a 200 counts; the
 * body is trimmed and cut at its first line break; a blank result keeps the
 * previous list (null here); the rest is split on ";" as Java's String.split
 * does (trailing empty entries dropped, nothing trimmed).
 */
function parseLikeRocketMq(answer: Answer): string[] | null {
  if (answer.status !== 200) return null;
  let text = answer.body.trim();
  const cut = text.includes('\r') ? text.indexOf('\r') : text.indexOf('\n');
  if (cut !== -1) text = text.slice(0, cut);
  if (text.trim() === '') return null;
  const entries = text.split(';');
  while (entries.length > 0 && entries[entries.length - 1] === '') entries.pop();
  return entries;
}

const THREE = ['ns-0.xnamesrv.rocketmq.svc:9876', 'ns-1.xnamesrv.rocketmq.svc:9876', '10.0.0.3:9876'];

let t: TestServer | undefined;
afterEach(async () => {
  await t?.stop();
  t = undefined;
});

describe('GET /rocketmq/nsaddr', () => {
  it('answers namesrvAddrList (";" and "," accepted) in RocketMQ format to a client given -Drocketmq.namesrv.domain=host:httpPort', async () => {
    t = await startTestServer({ namesrvAddrList: `${THREE[0]}; ${THREE[1]},${THREE[2]}` });
    const url = lookupUrl(wsAddr(`127.0.0.1:${t.server.httpPort}`));
    expect(url).toBe(`http://127.0.0.1:${t.server.httpPort}/rocketmq/nsaddr`);
    const answer = await javaGet(url, t.server.httpPort);
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(answer.body).toBe(THREE.join(';'));
    expect(parseLikeRocketMq(answer)).toEqual(THREE);
  });

  it('a domain without a port is asked on :8080 (so give the httpPort in the domain); the answer does not depend on Host', async () => {
    t = await startTestServer({ namesrvAddrList: THREE.join(';') });
    const url = lookupUrl(wsAddr('xnamesrv.rocketmq.svc'));
    expect(url).toBe('http://xnamesrv.rocketmq.svc:8080/rocketmq/nsaddr');
    expect(parseLikeRocketMq(await javaGet(url, t.server.httpPort))).toEqual(THREE);
    // A colon at index 0 does not count as a port: Java still adds :8080.
    expect(wsAddr(':9877')).toBe('http://:9877:8080/rocketmq/nsaddr');
  });

  it('the unit form <subgroup>-<unit>?nofix=1 answers the same list; a blank unit name asks the plain path', async () => {
    t = await startTestServer({ namesrvAddrList: THREE.join(';') });
    const base = wsAddr(`127.0.0.1:${t.server.httpPort}`);
    const unitUrl = lookupUrl(base, 'unitA');
    expect(unitUrl).toBe(`${base}-unitA?nofix=1`);
    expect(parseLikeRocketMq(await javaGet(unitUrl, t.server.httpPort))).toEqual(THREE);
    // DefaultTopAddressing's parameter form: `?nofix=1&k=v`.
    expect(parseLikeRocketMq(await javaGet(`${unitUrl}&zone=z1`, t.server.httpPort))).toEqual(THREE);
    expect(lookupUrl(base, '  ')).toBe(base);
    // `nsaddr-` (an empty unit) and `nsaddrX` are other subgroups, not units.
    for (const path of ['/rocketmq/nsaddr-', '/rocketmq/nsaddrX', '/rocketmq/nsaddr-unitA/x', '/rocketmq/']) {
      const answer = await javaGet(`http://127.0.0.1${path}`, t.server.httpPort);
      expect([path, answer.status]).toEqual([path, 404]);
      expect(answer.body).toContain('this name server answers /rocketmq/nsaddr and /rocketmq/nsaddr-<unit>');
    }
  });

  it('namesrvAddrSubGroup mirrors rocketmq.namesrv.domain.subgroup: only that subgroup (and its units) answers', async () => {
    t = await startTestServer({ namesrvAddrList: THREE.join(';'), namesrvAddrSubGroup: 'prod' });
    const domain = `127.0.0.1:${t.server.httpPort}`;
    expect(parseLikeRocketMq(await javaGet(lookupUrl(wsAddr(domain, 'prod')), t.server.httpPort))).toEqual(THREE);
    expect(parseLikeRocketMq(await javaGet(lookupUrl(wsAddr(domain, 'prod'), 'u1'), t.server.httpPort))).toEqual(THREE);
    const other = await javaGet(lookupUrl(wsAddr(domain)), t.server.httpPort);
    expect(other.status).toBe(404);
    expect(other.body).toBe(
      'no name server list at /rocketmq/nsaddr: this name server answers /rocketmq/prod and /rocketmq/prod-<unit> (namesrvAddrSubGroup=prod)\n',
    );
    expect(parseLikeRocketMq(other)).toBeNull();
  });

  it('an empty namesrvAddrList answers 404 with the reason, so callers keep the list they have', async () => {
    t = await startTestServer();
    const answer = await javaGet(lookupUrl(wsAddr(`127.0.0.1:${t.server.httpPort}`)), t.server.httpPort);
    expect(answer.status).toBe(404);
    expect(answer.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(answer.body).toMatch(/^namesrvAddrList is empty: .*set namesrvAddrList=host1:9876;host2:9876\n$/);
    expect(parseLikeRocketMq(answer)).toBeNull();
  });

  it('HEAD answers the headers of GET; other methods 405 with Allow', async () => {
    t = await startTestServer({ namesrvAddrList: THREE.join(';') });
    const url = wsAddr(`127.0.0.1:${t.server.httpPort}`);
    const head = await javaGet(url, t.server.httpPort, 'HEAD');
    expect([head.status, head.body, head.headers['content-length']]).toEqual([
      200,
      '',
      String(Buffer.byteLength(THREE.join(';'))),
    ]);
    const post = await javaGet(url, t.server.httpPort, 'POST');
    expect([post.status, post.headers.allow]).toEqual([405, 'GET, HEAD']);
  });

  it('answers while the name server waits for brokers: brokers need it to find a waiting name server', async () => {
    t = await startTestServer({
      namesrvAddrList: THREE.join(';'),
      needWaitForService: true,
      waitForBrokers: 1,
    });
    expect(t.server.lifecycleState()).toBe('waiting');
    expect((await t.http('/readyz')).status).toBe(503);
    expect(parseLikeRocketMq(await javaGet(wsAddr(`127.0.0.1:${t.server.httpPort}`), t.server.httpPort))).toEqual(
      THREE,
    );
  });

  it('UPDATE_NAMESRV_CONFIG changes the list and the subgroup at once, refuses a bad entry, and a restart keeps the update', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'xnamesrv-nsaddr-'));
    try {
      t = await startTestServer({ namesrvAddrList: THREE.join(';') }, { dataDir });
      const client = await t.client();
      const lookup = async (server: TestServer, subGroup = 'nsaddr') =>
        parseLikeRocketMq(
          await javaGet(wsAddr(`127.0.0.1:${server.server.httpPort}`, subGroup), server.server.httpPort),
        );

      const updated = await client.invoke(
        RequestCode.UPDATE_NAMESRV_CONFIG,
        null,
        Buffer.from('namesrvAddrList=a:9876;b:9876\nnamesrvAddrSubGroup=nsaddr2\n'),
      );
      expect([updated.code, updated.remark]).toEqual([ResponseCode.SUCCESS, null]);
      expect(await lookup(t, 'nsaddr2')).toEqual(['a:9876', 'b:9876']);
      expect(await lookup(t)).toBeNull();

      const refused = await client.invoke(
        RequestCode.UPDATE_NAMESRV_CONFIG,
        null,
        Buffer.from('namesrvAddrList=a:9876;b\n'),
      );
      expect(refused.code).toBe(ResponseCode.SYSTEM_ERROR);
      expect(refused.remark).toBe(
        'namesrvAddrList (this update): entry "b" is not host:listenPort (a port in 1..65535)',
      );
      expect(await lookup(t, 'nsaddr2')).toEqual(['a:9876', 'b:9876']);

      // Persisted in configStorePath and read back by the next start (no -c here).
      await t.stop();
      t = await startTestServer({}, { dataDir });
      expect(await lookup(t, 'nsaddr2')).toEqual(['a:9876', 'b:9876']);
    } finally {
      await t?.stop();
      t = undefined;
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('namesrvAddrList and namesrvAddrSubGroup at start', () => {
  const load = (argv: string[]) => loadConfig({ argv, env: {}, homeDir: '/nonexistent' });

  it('refuses an entry that is not host:port, naming the key, the entry and where it came from', () => {
    const result = load(['--namesrvAddrList', 'ns-0:9876;ns-1;[::1]:9876;ns-2:70000;ns-3:0']);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors).toEqual([
      'namesrvAddrList (flag --namesrvAddrList): entry "ns-1" is not host:listenPort (a port in 1..65535)',
      'namesrvAddrList (flag --namesrvAddrList): entry "ns-2:70000" is not host:listenPort (a port in 1..65535)',
      'namesrvAddrList (flag --namesrvAddrList): entry "ns-3:0" is not host:listenPort (a port in 1..65535)',
    ]);
  });

  it('refuses a subgroup that is not one path segment', () => {
    const result = load(['--namesrvAddrSubGroup', 'a/b']);
    expect(result.ok ? [] : result.errors).toEqual([
      'namesrvAddrSubGroup (a/b, flag --namesrvAddrSubGroup): must be one URL path segment of letters, digits, ".", "_", "~" or "-" (RocketMQ\'s default is nsaddr)',
    ]);
  });

  it('the command exits 2 on a bad entry, before binding anything', async () => {
    const run = spawnCli(
      ['--listenPort', '0', '--httpPort', '0', '--bindAddress', '127.0.0.1', '--data-dir', '/nonexistent/xnamesrv'],
      { XNAMESRV_NAMESRV_ADDR_LIST: 'ns-0:9876,ns-1' },
    );
    const exit = await run.exited;
    expect(exit.code).toBe(2);
    expect(run.stderr()).toContain(
      'xnamesrv: namesrvAddrList (environment variable XNAMESRV_NAMESRV_ADDR_LIST): entry "ns-1" is not host:listenPort (a port in 1..65535)',
    );
  });
});
