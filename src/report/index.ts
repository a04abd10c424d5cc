/** `stream-inspect report`: a self-contained HTML report of a stream, built in one bounded-memory pass. */
export * from './options.js';
export * from './collect.js';
export * from './render.js';
export * from './write.js';
export type { Timeline, TimelineSegment, TimelineMarker } from './timeline.js';
export type { PassStat } from './passes.js';
export type { PfnMap, PfnBucket } from './pfn-heat.js';
export type { RecordTable, RecordRow } from './record-table.js';
export type { RowDetail } from './record-detail.js';
export type { MachineSection, MachinePart } from './machine.js';
