export * from './constants.js';
export * from './page-types.js';
export * from './record-types.js';
export * from './rules.js';
export * from './hvm-save.js';
