import { readFileSync } from 'node:fs';

/** A recorded wire file from test/fixtures/route/ (frames and bodies a Java broker or client sent). */
export function routeFixture(name: string): Buffer {
  return readFileSync(new URL(`../fixtures/route/${name}`, import.meta.url));
}
