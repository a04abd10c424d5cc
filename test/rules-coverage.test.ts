/**
 * Every rule in RULE_LIST is documented in spec/RULES.md, raised somewhere in
 * src/, and exercised by its own test in test/rules.test.ts; every test that
 * spec/RULES.md names exists.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { RULE_LIST, RULES } from '../src/format/index.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const read = (rel: string) => readFileSync(join(ROOT, rel), 'utf8');
const RULES_MD = read('spec/RULES.md');
const RULES_TEST = read('test/rules.test.ts');

/** The `it(...)` blocks of rules.test.ts: title → source text up to the next `it(`. */
function testBlocks(src: string): Map<string, string> {
  const out = new Map<string, string>();
  // Either quote: the formatter writes a title holding a ' in double quotes.
  const re = /\bit(?:\.\w+)?\(\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")/g;
  const hits = [...src.matchAll(re)];
  hits.forEach((m, i) => {
    const end = i + 1 < hits.length ? (hits[i + 1].index as number) : src.length;
    const title = m[1] ?? m[2] ?? '';
    out.set(title.replace(/\\(['"])/g, '$1'), src.slice(m.index as number, end));
  });
  return out;
}

/** `### \`ID\`` sections of RULES.md: id → section text. */
function sections(md: string): Map<string, string> {
  const out = new Map<string, string>();
  const parts = md.split(/^### /m).slice(1);
  for (const p of parts) {
    const id = /^`([^`]+)`/.exec(p)?.[1];
    if (!id) throw new Error(`RULES.md: a ### heading without an id: ${p.slice(0, 40)}`);
    if (out.has(id)) throw new Error(`RULES.md: ${id} documented twice`);
    out.set(id, p);
  }
  return out;
}

function srcFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? srcFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const blocks = testBlocks(RULES_TEST);
const docs = sections(RULES_MD);

describe('rule coverage', () => {
  it('every rule id has a test in test/rules.test.ts whose title starts with the id and which asserts that id', () => {
    const missing: string[] = [];
    for (const r of RULE_LIST) {
      const own = [...blocks].filter(([title]) => title === r.id || title.startsWith(`${r.id}:`) || title.startsWith(`${r.id} `));
      if (!own.some(([, body]) => body.includes(`'${r.id}'`) || body.includes(`"${r.id}"`))) missing.push(r.id);
    }
    expect(missing).toEqual([]);
  });

  it('every rule id is documented once in spec/RULES.md with its severity and source, and nothing else is', () => {
    const ids = RULE_LIST.map((r) => r.id);
    expect([...docs.keys()].filter((id) => !ids.includes(id))).toEqual([]);
    const bad: string[] = [];
    for (const r of RULE_LIST) {
      const s = docs.get(r.id);
      if (!s) bad.push(`${r.id}: no section`);
      else if (!s.includes(`**Severity:** ${r.severity} · **Source:** ${r.source}`)) bad.push(`${r.id}: severity/source differ from RULE_LIST`);
      else if (!/\*\*Xen:\*\* \S/.test(s) || !/\*\*Offset:\*\* \S/.test(s)) bad.push(`${r.id}: Xen behaviour or offset missing`);
    }
    expect(bad).toEqual([]);
  });

  it('every test spec/RULES.md names exists (file › test title), and each rule names its rules.test.ts test', () => {
    const bad: string[] = [];
    for (const [id, s] of docs) {
      const line = /\*\*Tests:\*\* (.*)/.exec(s)?.[1] ?? '';
      const refs = [...line.matchAll(/`([^`]+\.test\.ts)`(?: › `([^`]+)`)?/g)];
      if (!refs.some((m) => m[1] === 'test/rules.test.ts' && m[2] !== undefined)) bad.push(`${id}: no test/rules.test.ts reference`);
      for (const [, file, title] of refs) {
        if (!existsSync(join(ROOT, file))) {
          bad.push(`${id}: ${file} does not exist`);
          continue;
        }
        if (title === undefined) continue;
        const src = file === 'test/rules.test.ts' ? RULES_TEST : read(file);
        const quoted = [`'${title.replace(/'/g, "\\'")}'`, `\`${title}\``, `"${title}"`];
        if (!quoted.some((q) => src.includes(q))) bad.push(`${id}: no test titled "${title}" in ${file}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('every rule is raised somewhere in src/ (no dead rules)', () => {
    const text = srcFiles(join(ROOT, 'src'))
      .filter((f) => !f.endsWith(join('format', 'rules.ts')))
      .map((f) => readFileSync(f, 'utf8'))
      .join('\n');
    const dead = Object.keys(RULES).filter((key) => !text.includes(`'${key}'`) && !text.includes(`RULES.${key}`));
    expect(dead).toEqual([]);
  });
});
