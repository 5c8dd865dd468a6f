import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/errors';
import { runCli } from '../helpers/cli';
import { codeSpans, inCodeSpan, sectionNaming, sections, type Section } from './markdown';

/**
 * docs/api.md covers everything it claims to: each error code, environment variable, export,
 * member of an exported type, event and CLI option. Anything added to the code fails here
 * until it is documented; a documented error code that no longer exists fails too.
 */
const API = readFileSync('docs/api.md', 'utf8');
const SECTIONS = sections(API);

function section(heading: string): Section {
  const found = SECTIONS.find((s) => s.heading === heading);
  if (!found) throw new Error(`docs/api.md has no "${heading}" heading`);
  return found;
}

describe('docs/api.md', () => {
  it('has a row in its Error codes table for every ErrorCode, and none for codes that do not exist', () => {
    const table = section('Error codes').text;
    const rows = [...table.matchAll(/^\| `(ERR_AUDIOSOCKET_[A-Z_]+)` \|[^|\n]+\|[^|\n]+\|$/gm)].map((m) => m[1]!);
    const codes: string[] = Object.values(ErrorCode);
    expect(codes.filter((code) => !rows.includes(code)), 'codes with no row (when it happens | what to do)').toEqual([]);
    expect(rows.filter((code) => !codes.includes(code)), 'rows for codes ErrorCode does not have').toEqual([]);
  });

  it('documents every environment variable the package reads, in its Environment variables section', () => {
    const read = new Set<string>();
    for (const file of [...sourceFiles('src'), ...sourceFiles('scripts')]) {
      const text = readFileSync(file, 'utf8');
      for (const match of text.matchAll(/process\.env(?:\.([A-Z_][A-Z0-9_]*)|\[['"]([A-Z_][A-Z0-9_]*)['"]\])/g)) read.add((match[1] ?? match[2])!);
      for (const match of text.matchAll(/['"](AUDIOSOCKET_[A-Z0-9_]+)['"]/g)) read.add(match[1]!); // names held in constants (EnvVar)
    }
    expect(read.size).toBeGreaterThan(3);
    const documented = codeSpans(section('Environment variables').text);
    expect([...read].filter((name) => !documented.some((span) => span === name || span.startsWith(`${name}=`)))).toEqual([]);
  });

  it.each(['', '/protocol', '/dsp', '/bridge'])('documents every export of audiosocket%s, and every member of its types', (subpath) => {
    expect(undocumented(subpath)).toEqual([]);
  });

  it.each(['serve', 'call', 'bench'])('documents every option of `audiosocket %s` in its section', async (command) => {
    const help = await runCli([command, '--help']);
    const flags = [...new Set([...help.stdout.matchAll(/(?<![\w-])--[a-z][a-z0-9-]*/g)].map((m) => m[0]))];
    expect(flags.length).toBeGreaterThan(5);
    const own = sectionNaming(SECTIONS, `audiosocket ${command}`);
    expect(own, `a heading naming \`audiosocket ${command}\``).toBeDefined();
    const spans = codeSpans(own!.text);
    expect(flags.filter((flag) => !spans.some((span) => new RegExp(`(^|\\s)${flag}($|[\\s=])`).test(span)))).toEqual([]);
  });
});

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    return entry.isDirectory() ? sourceFiles(file) : /\.(ts|mjs|js)$/.test(entry.name) ? [file] : [];
  });
}

/**
 * What of `audiosocket<subpath>` docs/api.md leaves out, read from the built declarations (what
 * users' editors see): every export named in a code span of the entry point's section (or, for
 * what the root re-exports, of the subpath's); every interface, class and union of string
 * literals with a heading naming it, under which each of its members (public properties,
 * methods, event names) or literals is named in a code span.
 */
function undocumented(subpath: string): string[] {
  const entry = path.resolve(`dist${subpath}/index.d.ts`);
  const program = ts.createProgram([entry], { strict: true, module: ts.ModuleKind.Node16, moduleResolution: ts.ModuleResolutionKind.Node16, skipLibCheck: true, types: ['node'] });
  const checker = program.getTypeChecker();
  const moduleSymbol = checker.getSymbolAtLocation(program.getSourceFile(entry)!)!;
  const entrySection = sectionNaming(SECTIONS, `audiosocket${subpath}`)!;
  const subpathSections = ['/protocol', '/dsp', '/bridge'].map((s) => sectionNaming(SECTIONS, `audiosocket${s}`)!);
  const missing: string[] = [];
  for (const exported of checker.getExportsOfModule(moduleSymbol)) {
    const name = exported.getName();
    const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    const homes = subpath === '' ? [entrySection, ...subpathSections] : [entrySection];
    if (!homes.some((home) => inCodeSpan(home.text, name))) missing.push(`${name}: not named in the audiosocket${subpath} section`);
    const members = memberNames(checker, symbol, name);
    if (members.length === 0) continue;
    const own = sectionNaming(SECTIONS, name);
    if (!own) {
      missing.push(`${name}: no heading names it`);
      continue;
    }
    for (const member of members) if (!inCodeSpan(own.text, member)) missing.push(`${name}.${member}: not in the section of ${name}`);
  }
  return missing;
}

/** The names a type's documentation must cover; none for functions, constants and other types. */
function memberNames(checker: ts.TypeChecker, symbol: ts.Symbol, name: string): string[] {
  if (name === 'ErrorCode') return []; // its values have their own table (the first test)
  if (symbol.flags & (ts.SymbolFlags.Interface | ts.SymbolFlags.Class)) {
    const instance = checker.getPropertiesOfType(checker.getDeclaredTypeOfSymbol(symbol));
    const statics = symbol.flags & ts.SymbolFlags.Class ? checker.getPropertiesOfType(checker.getTypeOfSymbol(symbol)).filter((s) => s.getName() !== 'prototype') : [];
    return [...instance, ...statics].filter((member) => isPublic(member, symbol)).map((member) => member.getName());
  }
  if (symbol.flags & ts.SymbolFlags.TypeAlias) {
    const type = checker.getDeclaredTypeOfSymbol(symbol);
    if (type.isUnion() && type.types.every((t) => t.isStringLiteral())) return type.types.map((t) => (t as ts.StringLiteralType).value);
  }
  // Constant objects of names: Kind, EnvVar.
  if (symbol.flags & ts.SymbolFlags.Variable) {
    const type = checker.getTypeOfSymbol(symbol);
    if (type.getFlags() & ts.TypeFlags.Object && !checker.isArrayLikeType(type) && type.getCallSignatures().length === 0) {
      return checker.getPropertiesOfType(type).map((p) => p.getName());
    }
  }
  return [];
}

/** Declared by the type itself (not inherited from EventEmitter, Error...), and not internal. */
function isPublic(member: ts.Symbol, owner: ts.Symbol): boolean {
  const name = member.getName();
  if (name.startsWith('_') || name.startsWith('#') || name === 'constructor') return false;
  const declarations = member.getDeclarations() ?? [];
  const ownDeclarations = new Set(owner.getDeclarations());
  if (owner.flags & ts.SymbolFlags.Class && !declarations.some((d) => ownDeclarations.has(d.parent as ts.Declaration))) return false;
  return !declarations.some((d) => ts.getJSDocTags(d).some((tag) => tag.tagName.text === 'internal'));
}
