import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** The documents whose code blocks are checked: README.md, docs/, and the examples' READMEs. */
export function documents(): string[] {
  const docs = readdirSync('docs').filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`);
  const examples = readdirSync('examples', { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(path.join('examples', entry.name, 'README.md')))
    .map((entry) => `examples/${entry.name}/README.md`);
  return ['README.md', ...docs, 'examples/README.md', ...examples];
}

export interface CodeBlock {
  file: string;
  /** Line of the opening fence, 1-based. */
  line: number;
  /** The fence's info string (`ts`, `sh`...); empty when it has none. */
  lang: string;
  body: string;
}

/** Every fenced code block of a markdown file, in order. */
export function codeBlocks(file: string): CodeBlock[] {
  const lines = readFileSync(file, 'utf8').split('\n');
  const blocks: CodeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(.*)$/.exec(lines[i]!);
    if (!open) continue;
    const end = lines.findIndex((l, j) => j > i && l === '```');
    if (end < 0) throw new Error(`${file}:${i + 1}: a code block that is never closed`);
    blocks.push({ file, line: i + 1, lang: open[1]!.trim(), body: lines.slice(i + 1, end).join('\n') });
    i = end;
  }
  return blocks;
}

export interface Section {
  level: number;
  heading: string;
  /** The heading's own text and everything under it, up to the next heading of its level or above. */
  text: string;
}

/** The sections of a markdown file: one per heading (code blocks are not mistaken for headings). */
export function sections(markdown: string): Section[] {
  const lines = markdown.split('\n');
  const headings: Array<{ index: number; level: number; heading: string }> = [];
  let fenced = false;
  lines.forEach((line, index) => {
    if (line.startsWith('```')) fenced = !fenced;
    const match = fenced ? null : /^(#{1,6}) (.*)$/.exec(line);
    if (match) headings.push({ index, level: match[1]!.length, heading: match[2]! });
  });
  return headings.map(({ index, level, heading }, n) => {
    const next = headings.slice(n + 1).find((h) => h.level <= level);
    return { level, heading, text: lines.slice(index, next ? next.index : lines.length).join('\n') };
  });
}

/** The section whose heading names `name` in a code span (`` `name` ``), or undefined. */
export function sectionNaming(all: Section[], name: string): Section | undefined {
  return all.find((s) => codeSpans(s.heading).includes(name));
}

/** The contents of the inline code spans of some markdown text. */
export function codeSpans(text: string): string[] {
  return [...text.replace(/^```[\s\S]*?^```/gm, '').matchAll(/`([^`\n]+)`/g)].map((m) => m[1]!);
}

/** Whether `word` appears as a whole word in a code span of `text`. */
export function inCodeSpan(text: string, word: string): boolean {
  const pattern = new RegExp(`(^|[^\\w$])${word.replace(/[$]/g, '\\$')}($|[^\\w$])`);
  return codeSpans(text).some((span) => pattern.test(span));
}
