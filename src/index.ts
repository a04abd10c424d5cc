/**
 * xen-migration-stream: the package root, what a user of the README needs —
 * the reader, the writer and its sinks, the errors, the record types and the
 * inspector's functions. Named exports only, each listed here, so the root's
 * surface is reviewed when it changes (test/package-api.test.ts pins it).
 *
 * Everything else has its own entry point: `xen-migration-stream/codec`,
 * `/format`, `/reader`, `/writer`, `/inspect`, `/rewrite`, `/report` and
 * `/session`. Importing the root loads neither TypeBox (JSON schemas, in
 * `/codec`) nor the report nor the session layer.
 *
 * Layers import one way: format ← codec ← reader, writer ← inspect, rewrite,
 * report, session ← cli.
 */

// Reading
export { readStream, readStreamSync, readBackChannel, readBackChannelSync, StreamReader, SyncStreamReader } from './reader/stream-reader.js';
export { PushDecoder } from './reader/push-decoder.js';
export type { ReaderOptions } from './reader/decoder.js';
export type { StreamSource } from './reader/sources.js';
export type { BackChannelKind, BackChannelOptions } from './reader/back-channel.js';
export type {
  StreamItem,
  HeaderItem,
  XlHeaderItem,
  LibxlHeaderItem,
  LibxcImageHeaderItem,
  LibxcDomainHeaderItem,
  RecordItem,
  TrailingItem,
  Problem,
  Container,
  StreamMode,
  StreamEnd,
} from './reader/items.js';
export type { StreamSummary, PassSummary, TypeCount } from './reader/summary.js';

// Writing
export { StreamWriter } from './writer/stream-writer.js';
export type { XlHeaderOptions, LibxcHeaderOptions, TscInfo, EmulatorOptions, HvmParam, PageChunks } from './writer/stream-writer.js';
export type { WriterMode, GuestKind, WriterState } from './writer/writer-automaton.js';
export { FileSink, type FileSinkOptions } from './writer/file-sink.js';
export { WritableSink, type WritableSinkOptions } from './writer/writable-sink.js';
export { MemorySink, type MemorySinkOptions } from './writer/memory-sink.js';
export type { StreamSink } from './writer/sink.js';
export { ColoBackChannelWriter } from './writer/colo-back-channel-writer.js';
export { PostcopyBackChannelWriter } from './writer/postcopy-back-channel-writer.js';
export { synth, synthFinalPass, type SynthOptions, type SynthResult } from './writer/synth.js';
export { synthPageContent } from './writer/synth-pages.js';

// Errors
export { StreamFormatError, EncodeError, JsonFormError } from './codec/errors.js';
export { WriterError, WriterStateError, WriterGuardError } from './writer/writer-errors.js';
export { InspectArgumentError } from './inspect/argument-error.js';

// Record types: the format as data, and the decoded values
export { PAGE_TYPE, PAGE_TYPES, pageTypeName, type PageTypeInfo } from './format/page-types.js';
export { recordTypeTable, recordTypeName, type Layer, type Dialect, type RecordTypeInfo, type RecordTypeTable } from './format/record-types.js';
export { RULES, RULE_LIST, ruleById, type RuleInfo, type RuleSeverity, type RuleSource } from './format/rules.js';
export type { StreamRecord, RecordBody } from './codec/records.js';
export type { EmptyBody, OpaqueBody } from './codec/bodies/simple.js';
export type { PageDataBody, PfnListBody } from './codec/bodies/page-data.js';
export type { PvInfoBody, P2mFramesBody, VcpuBody } from './codec/bodies/x86-pv.js';
export type { TscInfoBody, HvmParamsBody, CpuidPolicyBody, CpuidLeaf, MsrPolicyBody, MsrEntry, DirtyPfnListBody } from './codec/bodies/x86-common.js';
export type { EmulatorXenstoreBody, EmulatorContextBody, CheckpointStateBody } from './codec/bodies/libxl.js';

// The inspector's functions (what `stream-inspect` runs) and the sinks they write to
export type { WalkOptions } from './inspect/walk-options.js';
export { dumpStream, type DumpFormat, type DumpOptions, type DumpResult } from './inspect/dump.js';
export { verifyStream, type VerifyResult, type VerifyStatus } from './inspect/verify.js';
export { streamStats, type StatsResult } from './inspect/stats.js';
export { hexdumpItem, type HexdumpTarget, type HexdumpOptions } from './inspect/hexdump.js';
export { extractStream, type ExtractOptions, type ExtractResult } from './inspect/extract.js';
export { encodeJsonStream, type EncodeResult } from './inspect/encode.js';
export { diffStreams, type DiffOptions, type DiffResult } from './inspect/diff.js';
export { StringTextSink, WritableTextSink, type TextSink } from './inspect/text-sink.js';
export { FileByteSink, WritableByteSink, type ByteSink } from './inspect/byte-sink.js';
