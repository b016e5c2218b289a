import * as nodeZlib from 'node:zlib';

// @types/node 20 predates zlib.crc32 (Node 20.15+), which the runtime has.
export const zlib = nodeZlib as typeof nodeZlib & { crc32(data: Buffer | string, value?: number): number };
