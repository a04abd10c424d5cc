/**
 * `--records TYPE,…`: which records a dump shows. A term is a name (PAGE_DATA),
 * a number (1, 0x1) or either prefixed by a layer (libxc:PAGE_DATA, libxl:0x3).
 * A bare number matches that type in both layers (numbers overlap across layers).
 */
import { recordTypeTable, type Dialect, type Layer } from '../format/record-types.js';
import { InspectArgumentError } from './argument-error.js';
import { parseNonNegativeInteger } from './text-format.js';

export interface RecordFilter {
  matches(layer: Layer, type: number, name: string): boolean;
}

interface Term {
  layer?: Layer | undefined;
  type?: number;
  name?: string;
}

const LAYERS: readonly Layer[] = ['libxl', 'libxc'];

export function parseRecordFilter(spec: string, dialect: Dialect = 'upstream'): RecordFilter {
  const terms: Term[] = [];
  for (const raw of spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    let text = raw;
    let layer: Layer | undefined;
    const colon = raw.indexOf(':');
    if (colon >= 0) {
      const prefix = raw.slice(0, colon).toLowerCase();
      if (prefix !== 'libxl' && prefix !== 'libxc')
        throw new InspectArgumentError(`--records: unknown layer "${raw.slice(0, colon)}" in "${raw}" (use libxl: or libxc:)`);
      layer = prefix;
      text = raw.slice(colon + 1);
    }
    const n = parseNonNegativeInteger(text);
    if (n !== undefined) {
      if (n > 0xffffffff) throw new InspectArgumentError(`--records: type ${text} does not fit in 32 bits`);
      terms.push({ layer, type: n });
      continue;
    }
    const name = text.toUpperCase();
    const known = (layer ? [layer] : LAYERS).some((l) => recordTypeTable(l, dialect).byName(name));
    if (!known) {
      const all = LAYERS.flatMap((l) => recordTypeTable(l, dialect).types.map((t) => t.name));
      throw new InspectArgumentError(
        `--records: no ${layer ?? ''}${layer ? ' ' : ''}record type named "${text}" in the ${dialect} dialect (known: ${[...new Set(all)].join(', ')})`,
      );
    }
    terms.push({ layer, name });
  }
  if (terms.length === 0) throw new InspectArgumentError('--records: give at least one record type');
  return {
    matches: (layer, type, name) =>
      terms.some((t) => (t.layer === undefined || t.layer === layer) && (t.type === undefined || t.type === type) && (t.name === undefined || t.name === name)),
  };
}
