export { rewriteStream, type RewriteOutput } from './rewrite.js';
export { checkRewriteOptions, type RewriteOptions, type RewriteResult, type RewritePhase } from './rewrite-options.js';
export { PfnLastCopyIndex } from './pfn-last-copy.js';
export { prepareInput, type PreparedInput, type PageReader } from './input.js';
export { scanStream, type ScanResult } from './scan.js';
