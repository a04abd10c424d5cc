/** xen-migration-stream: the public API. */
export * from './format/index.js';
export * from './codec/index.js';
export * from './reader/index.js';
