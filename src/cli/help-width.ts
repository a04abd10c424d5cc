/**
 * Width yargs wraps help text at: none. Its two-column layout wraps an
 * example's command line in the middle (`stream-inspect rewrite` / `-o
 * out.bin` / `--batch 64` on three lines), which breaks copy and paste; a
 * terminal wraps long description lines well enough on its own.
 */
export function helpWidth(): null {
  return null;
}
