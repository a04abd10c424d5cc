/**
 * Writes the legacy (pre-Xen-4.6) image of a v2 stream, as Xen 4.5's
 * xc_domain_save would have for the same guest (test/support/legacy-writer.ts),
 * for scripts/test-xen.sh's legacy case and for trying convert-legacy by hand:
 *
 *   npx tsx scripts/make-legacy-image.ts IN OUT [xl|xend|libxc] [64|32]
 *
 * IN: a v2 stream (xl save file for the xl container), plain or gzip.
 */
import { writeLegacyImage } from '../test/support/legacy-writer.js';

const [input, output, container = 'xl', width = '64'] = process.argv.slice(2);
if (!input || !output || !['xl', 'xend', 'libxc'].includes(container) || !['32', '64'].includes(width)) {
  process.stderr.write('usage: make-legacy-image.ts IN OUT [xl|xend|libxc] [64|32]\n');
  process.exit(2);
}
await writeLegacyImage(input, output, { container: container as 'xl' | 'xend' | 'libxc', width: Number(width) as 32 | 64 });
