import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { CONFIG_TABLE_END, CONFIG_TABLE_START, renderConfigTable } from '../src/config/docs.js';
import { requestCodeName } from '../src/remoting/requestCode.js';
import { startTestServer } from './support/harness.js';

const readme = () => readFile(new URL('../README.md', import.meta.url), 'utf8');

describe('README stays true', () => {
  it('has the configuration table of the schema (run `npm run docs` after changing a key)', async () => {
    const text = await readme();
    const table = text
      .slice(text.indexOf(CONFIG_TABLE_START) + CONFIG_TABLE_START.length, text.indexOf(CONFIG_TABLE_END))
      .trim();
    expect(table).toBe(renderConfigTable());
  });

  it('lists exactly the request codes the server answers', async () => {
    const text = await readme();
    const rows = [...text.matchAll(/^\| (\d+) \| ([A-Z_]+) \|/gm)].map((m) => [Number(m[1]), m[2]]);
    const t = await startTestServer();
    try {
      expect(rows).toEqual(t.server.supportedRequestCodes().map((code) => [code, requestCodeName(code)]));
    } finally {
      await t.stop();
    }
  });

  it('states the start and test commands', async () => {
    const text = await readme();
    expect(text).toContain('npm ci && npm start');
    expect(text).toContain('npm test');
  });
});
