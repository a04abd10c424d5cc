/** Whether an input is a legacy (pre-Xen-4.6) image, from its first bytes (gzip is looked through). */
import { openWindow, type StreamSource } from '../reader/sources.js';
import { legacyShape } from './legacy-layout.js';

/** Bytes looked at: an xl or xend header's fixed part, or a libxc body's first fields. */
const PROBE_BYTES = 64;

export async function isLegacyImage(source: StreamSource): Promise<boolean> {
  const window = await openWindow(source);
  try {
    await window.ensure(PROBE_BYTES);
    return legacyShape(window.current()) !== undefined;
  } finally {
    await window.close();
  }
}
