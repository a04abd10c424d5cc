export * from './items.js';
export * from './decoder.js';
export * from './detect.js';
export * from './summary.js';
export * from './pfn-set.js';
export * from './sources.js';
export * from './stream-reader.js';
export * from './push-decoder.js';
