/**
 * The text a wrapper part carries, laid out for `dump`: libvirt's domain XML
 * indented (libvirt writes it indented already; a one-line XML is re-indented),
 * xenops' S-expression one top-level field per line.
 */

/** XML, one element or text run per line, indented by nesting (as written when it already has line breaks). */
export function xmlLines(xml: string): string[] {
  const text = xml.replace(/\0+$/, '').replace(/\n$/, '');
  if (text.includes('\n')) return text.split('\n');
  const out: string[] = [];
  let depth = 0;
  for (const token of text.match(/<[^>]*>|[^<]+/g) ?? []) {
    const t = token.trim();
    if (t.length === 0) continue;
    if (t.startsWith('</')) depth = Math.max(0, depth - 1);
    out.push(`${'  '.repeat(depth)}${t}`);
    if (t.startsWith('<') && !t.startsWith('</') && !t.startsWith('<?') && !t.startsWith('<!') && !t.endsWith('/>')) depth++;
  }
  return out;
}

/** An S-expression "((a 1)(b \"x y\"))": one top-level element per line. */
export function sexpLines(sexp: string): string[] {
  const s = sexp.trim();
  if (!s.startsWith('(') || !s.endsWith(')')) return [s];
  const inner = s.slice(1, -1);
  const out: string[] = [];
  let depth = 0;
  let inString = false;
  let start = 0;
  for (let i = 0; i < inner.length; i++) {
    const c = inner[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '(') {
      if (depth === 0) start = i;
      depth++;
    } else if (c === ')') {
      depth--;
      if (depth === 0) out.push(inner.slice(start, i + 1));
    }
  }
  return out.length > 0 ? out : [s];
}
