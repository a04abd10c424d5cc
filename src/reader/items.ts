import type { LibxcDomainHeader, LibxcImageHeader, LibxlHeader, XlHeader } from '../codec/headers.js';
import type { StreamRecord } from '../codec/records.js';
import type { Layer } from '../format/record-types.js';
import type { RuleInfo } from '../format/rules.js';

interface ItemBase {
  /** Absolute byte offset in the (decompressed) input. */
  offset: number;
  /** Bytes the item occupies on the wire. */
  length: number;
}

export interface XlHeaderItem extends ItemBase {
  kind: 'xl-header';
  header: XlHeader;
}
export interface LibxlHeaderItem extends ItemBase {
  kind: 'libxl-header';
  header: LibxlHeader;
}
export interface LibxcImageHeaderItem extends ItemBase {
  kind: 'libxc-image-header';
  header: LibxcImageHeader;
}
export interface LibxcDomainHeaderItem extends ItemBase {
  kind: 'libxc-domain-header';
  header: LibxcDomainHeader;
}

export interface RecordItem extends ItemBase {
  kind: 'record';
  /** Index among all records of the stream, both layers, from 0. */
  index: number;
  layer: Layer;
  record: StreamRecord;
  bodyLength: number;
  /** Checkpoint number (1-based) the record belongs to, in a checkpointed stream. */
  checkpoint?: number;
}

/** Bytes after the final END. */
export interface TrailingItem extends ItemBase {
  kind: 'trailing';
  /** The first bytes (at most 64), for the message. */
  head: Uint8Array;
  /** They are exactly xl migrate's go message (the input is a capture of the wire). */
  isGoMessage: boolean;
}

/** A part of a wrapper around the stream (libvirt's header and XML; a XenServer signature or section), kept byte for byte. */
export interface ContainerPartItem extends ItemBase {
  kind: 'container-part';
  wrapper: 'libvirt' | 'xenserver';
  /** What the part is, in words ("libvirt header", "Xenops record", "End_of_image"…). */
  part: string;
  /** The part's bytes as they are in the input (header and body). */
  bytes: Uint8Array;
  /** Its header fields, decoded. */
  fields: Record<string, number | string>;
  /** Its text (libvirt's domain XML, xenops' S-expression), when it is text. */
  text?: string;
}

export type StreamItem = XlHeaderItem | LibxlHeaderItem | LibxcImageHeaderItem | LibxcDomainHeaderItem | RecordItem | TrailingItem | ContainerPartItem;
export type HeaderItem = XlHeaderItem | LibxlHeaderItem | LibxcImageHeaderItem | LibxcDomainHeaderItem;

/** A problem that did not stop the reader (lenient mode, warnings, notes). */
export interface Problem {
  rule: RuleInfo;
  severity: 'error' | 'warning' | 'note';
  offset: number;
  recordIndex?: number | undefined;
  message: string;
}

export type Container = 'xl' | 'libxl' | 'libxc';
export type StreamMode = 'plain' | 'remus' | 'colo' | 'postcopy-rfc';

/** How the stream ended. A truncated stream never gets here: it throws STREAM-TRUNCATED. */
export interface StreamEnd {
  /** complete: the final END was read. failover: a checkpointed stream ended after a complete checkpoint. */
  status: 'complete' | 'failover';
  /** Total bytes of input read (including trailing bytes). */
  bytesRead: number;
  /** Offset just past the stream's last byte (the final END, or the end of the last complete checkpoint). */
  streamEnd: number;
  /** Checkpointed streams: number of complete checkpoints (the state a failover restores). */
  completeCheckpoints?: number;
  /** Failover: records read after the last complete checkpoint, which a receiver discards. */
  discardedRecords?: number;
  /** Failover: bytes after the last complete checkpoint (records discarded plus any partial record). */
  discardedBytes?: number;
  trailingBytes?: number;
}
