/**
 * xen-migration-stream: the public API. Layers import one way:
 * format ← codec ← reader, writer ← inspect, rewrite, report, session.
 */
export * from './format/index.js';
export * from './codec/index.js';
export * from './reader/index.js';
export * from './writer/index.js';
export * from './inspect/index.js';
export * from './report/index.js';
export * as session from './session/index.js';
export * from './rewrite/index.js';
