/**
 * What rewrite does with a wrapper around the stream: libvirt's save image
 * header and domain XML are written again byte for byte before the new
 * stream; a XenServer suspend image is refused (its QEMU and end sections
 * follow the stream: take the stream out with `extract --stream`).
 */
import { InspectArgumentError } from '../inspect/argument-error.js';
import type { ContainerPartItem } from '../reader/items.js';
import { copyBytes } from '../codec/bytes.js';

/** A copy of the part's bytes (the reader's buffers may be reused), to write before the stream. */
export function keptWrapperPart(item: ContainerPartItem): Uint8Array {
  if (item.wrapper !== 'libvirt') {
    throw new InspectArgumentError(
      'rewrite does not write XenServer suspend images (sections follow the stream): take the embedded stream out with `extract IMAGE --stream FILE` and rewrite that',
    );
  }
  return copyBytes(item.bytes);
}
