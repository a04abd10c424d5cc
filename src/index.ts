/** xen-migration-stream: the public API. Layers import one way: format ← codec ← reader/writer ← session. */
export * from './format/index.js';
export * from './codec/index.js';
export * from './reader/index.js';
export * from './writer/index.js';
export * as session from './session/index.js';
