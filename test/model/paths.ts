// Moved to src/conform/model/paths.ts: `xnamesrv conform` generates its paths with the same helpers.
export * from '../../src/conform/model/paths.js';
