/** One command line of a `sh` block: its environment assignments and its words. */
export interface ShellCommand {
  /** Line in the markdown file where the command starts, 1-based. */
  line: number;
  text: string;
  env: Record<string, string>;
  words: string[];
}

/**
 * The commands of a `sh` block: comments dropped (a `#` that starts a word), lines continued
 * with a backslash joined, words split as a POSIX shell does for the plain quoting docs use
 * ('single', "double", no expansions).
 */
export function shellCommands(body: string, firstLine: number): ShellCommand[] {
  const commands: ShellCommand[] = [];
  let pending = '';
  let start = 0;
  body.split('\n').forEach((raw, index) => {
    if (!pending) start = firstLine + index;
    const line = stripComment(raw);
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      return;
    }
    const text = (pending + line).trim();
    pending = '';
    if (!text) return;
    const words = splitWords(text);
    const env: Record<string, string> = {};
    while (words.length > 0 && /^[A-Z_][A-Z0-9_]*=/.test(words[0]!)) {
      const [name, ...value] = words.shift()!.split('=');
      env[name!] = value.join('=');
    }
    commands.push({ line: start, text, env, words });
  });
  return commands;
}

function stripComment(line: string): string {
  let quote: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = null;
    } else if (c === "'" || c === '"') {
      quote = c;
    } else if (c === '#' && (i === 0 || /\s/.test(line[i - 1]!))) {
      return line.slice(0, i).trimEnd();
    }
  }
  return line.trimEnd();
}

function splitWords(text: string): string[] {
  const words: string[] = [];
  let word: string | null = null;
  let quote: string | null = null;
  for (const c of text) {
    if (quote) {
      if (c === quote) quote = null;
      else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      word ??= '';
    } else if (/\s/.test(c)) {
      if (word !== null) words.push(word);
      word = null;
    } else {
      word = (word ?? '') + c;
    }
  }
  if (quote) throw new Error(`an unclosed quote in: ${text}`);
  if (word !== null) words.push(word);
  return words;
}
