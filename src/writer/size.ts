/** Byte sizes written like 256M, 1G, 4096, 1.5GiB (binary units: K = 1024). */
const UNITS: Record<string, number> = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };

export function parseByteSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?\s*$/i.exec(text);
  if (!m) throw new RangeError(`cannot read ${JSON.stringify(text)} as a size (e.g. 4096, 256M, 1G)`);
  const bytes = Number(m[1]) * UNITS[m[2].toUpperCase()];
  if (!Number.isFinite(bytes) || bytes <= 0) throw new RangeError(`size ${JSON.stringify(text)} must be positive`);
  return Math.round(bytes);
}
