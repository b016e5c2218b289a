import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decodeCommand, encodeCommand } from '../../src/protocol/frameCodec.js';
import { SerializeType } from '../../src/remoting/command.js';
import { FrameDecoder } from '../../src/remoting/frameDecoder.js';
import { MQVersion } from '../../src/remoting/requestCode.js';

const goldenDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'golden', 'rocketmq-4.9.8');

function hexFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return hexFiles(path);
    return entry.name.endsWith('.hex') ? [path] : [];
  });
}

const frames = hexFiles(goldenDir).map((path) => {
  const base = path.slice(0, -'.hex'.length);
  return {
    name: relative(goldenDir, base),
    wire: Buffer.from(readFileSync(path, 'utf8').trim(), 'hex'),
    header: readFileSync(`${base}.header.json`),
    body: existsSync(`${base}.body.bin`) ? readFileSync(`${base}.body.bin`) : null,
  };
});

describe('golden frames from a Java RocketMQ 4.9.8 name server', () => {
  it('has the captured frames', () => {
    expect(frames.length).toBeGreaterThanOrEqual(18);
  });

  describe.each(frames)('$name', ({ wire, header, body }) => {
    it('decodes to the captured header and body', () => {
      expect(wire.readInt32BE(0)).toBe(wire.length - 4);
      const decoded = decodeCommand(wire.subarray(4));
      expect(decoded.ok).toBe(true);
      if (!decoded.ok) return;
      const command = decoded.command;
      const expected = JSON.parse(header.toString('utf8'));
      expect(command.serializeType).toBe(SerializeType.JSON);
      expect(command.code).toBe(expected.code);
      expect(command.flag).toBe(expected.flag);
      expect(command.language).toBe(expected.language);
      expect(command.opaque).toBe(expected.opaque);
      expect(command.version).toBe(expected.version);
      expect(command.remark ?? undefined).toBe(expected.remark);
      expect(command.extFields ?? undefined).toEqual(expected.extFields);
      if (body === null) expect(command.body).toBeNull();
      else expect(Buffer.compare(command.body!, body)).toBe(0);
    });

    it('re-encodes to the same bytes', () => {
      const decoded = decodeCommand(wire.subarray(4));
      if (!decoded.ok) throw new Error(decoded.error);
      expect(encodeCommand(decoded.command).toString('hex')).toBe(wire.toString('hex'));
    });

    it('comes out of the frame decoder whole', () => {
      const result = new FrameDecoder().push(wire);
      expect(result.error).toBeUndefined();
      expect(result.frames).toHaveLength(1);
    });
  });

  it('carries version 409, the ordinal of V4_9_8', () => {
    for (const { wire } of frames) {
      const decoded = decodeCommand(wire.subarray(4));
      expect(decoded.ok && decoded.command.version).toBe(MQVersion.V4_9_8);
    }
  });
});
