/**
 * Shape checks for what the docs tell Asterisk, which no test can run: dialplan lines and ARI
 * externalMedia requests. The rules are PROTOCOL.md's: `AudioSocket(uuid,host:port)` after
 * `Answer()`, `Dial(AudioSocket/host:port/uuid/c(codec))`, externalMedia with
 * `encapsulation=audiosocket`, `transport=tcp` and the UUID in `data`.
 */

/** Codecs `c()` and externalMedia's `format` take in the docs: slin at each kind's rate, and G.711. */
const CODECS = ['slin', 'slin12', 'slin16', 'slin24', 'slin32', 'slin44', 'slin48', 'slin96', 'slin192', 'ulaw', 'alaw'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** A UUID as the dialplan gives it: `${UUID()}`, a variable holding one, or a literal. */
const DIALPLAN_UUID = /^(\$\{UUID\(\)\}|\$\{[A-Z_][A-Z0-9_]*\})$/;

/** `host:port`, the host a name, an IPv4 address or a bracketed IPv6 one. */
function serviceProblem(service: string): string | null {
  const match = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d+)$/.exec(service);
  if (!match) return `${JSON.stringify(service)} is not host:port`;
  const port = Number(match[2]);
  return port >= 1 && port <= 65535 ? null : `port ${port} is out of 1-65535`;
}

function uuidProblem(uuid: string): string | null {
  return DIALPLAN_UUID.test(uuid) || UUID.test(uuid) ? null : `${JSON.stringify(uuid)} is not a UUID, \${UUID()} or a variable`;
}

/** Arguments of a dialplan application, split on commas outside `${...}` and parentheses. */
function dialplanArgs(text: string): string[] {
  const args: string[] = [];
  let depth = 0;
  let current = '';
  for (const c of text) {
    if (c === '(' || c === '{') depth++;
    if (c === ')' || c === '}') depth--;
    if (c === ',' && depth === 0) {
      args.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  return [...args, current];
}

function audioSocketDialString(dial: string): string[] {
  const [, service = '', uuid = '', ...options] = dial.split('/');
  const problems = [serviceProblem(service), uuidProblem(uuid)];
  for (const option of options) {
    const codec = /^c\((\w+)\)$/.exec(option)?.[1];
    problems.push(codec && CODECS.includes(codec) ? null : `${JSON.stringify(option)} is not c(codec) with a codec of ${CODECS.join(', ')}`);
  }
  return problems.filter((p): p is string => p !== null);
}

/**
 * Problems of a dialplan block: each line a context, a comment, or `exten =>` / `same =>` with
 * a priority and one application the docs cover (`covered`, as `Name`), with AudioSocket's
 * arguments in the form Asterisk takes and `Answer()` (or `Progress()`) before `AudioSocket()`.
 */
export function dialplanProblems(body: string, covered: (app: string) => boolean): string[] {
  const problems: string[] = [];
  let extension: string[] | null = null; // the applications of the current extension so far
  body.split('\n').forEach((line, index) => {
    const at = `line ${index + 1}`;
    if (/^\s*(;.*)?$/.test(line) || /^\[[\w-]+\]$/.test(line)) return;
    const match = /^(?:exten => ([\w_.!+*#-]+),|\s+same => )(\d+|n(?:\(\w+\))?),(\w+)\((.*)\)$/.exec(line);
    if (!match) return void problems.push(`${at}: not "exten => EXT,PRIORITY,App(...)" or " same => n,App(...)": ${line}`);
    const [, exten, priority, app, args] = match as unknown as [string, string | undefined, string, string, string];
    if (exten !== undefined) {
      extension = [];
      if (priority !== '1') problems.push(`${at}: an extension starts at priority 1, not ${priority}`);
    } else if (!extension) {
      return void problems.push(`${at}: "same =>" before any "exten =>"`);
    }
    if (!covered(app)) problems.push(`${at}: ${app}() is not covered by docs/asterisk.md`);
    if (app === 'AudioSocket') {
      const parts = dialplanArgs(args);
      if (parts.length !== 2) problems.push(`${at}: AudioSocket(uuid,host:port) takes two arguments, got ${parts.length}`);
      for (const problem of [uuidProblem(parts[0] ?? ''), serviceProblem(parts[1] ?? '')]) if (problem) problems.push(`${at}: AudioSocket: ${problem}`);
      if (!extension!.some((a) => a === 'Answer' || a === 'Progress')) problems.push(`${at}: AudioSocket() before Answer(): Asterisk sends no UUID then`);
    }
    if (app === 'Dial') {
      for (const dial of dialplanArgs(args)[0]!.split('&')) {
        if (dial.startsWith('AudioSocket/')) for (const problem of audioSocketDialString(dial)) problems.push(`${at}: Dial(${dial}): ${problem}`);
      }
    }
    extension!.push(app);
  });
  return problems;
}

/** Problems of an ARI externalMedia request written as a curl command. */
export function externalMediaProblems(words: string[]): string[] {
  const url = words.find((w) => /^https?:\/\//.test(w));
  if (!url) return ['no URL'];
  const parsed = new URL(url);
  const params = parsed.searchParams;
  const problems = [
    parsed.pathname.endsWith('/ari/channels/externalMedia') ? null : `${parsed.pathname} is not /ari/channels/externalMedia`,
    words.includes('POST') ? null : 'externalMedia is a POST',
    params.get('app') ? null : 'app (the Stasis application) is required',
    serviceProblem(params.get('external_host') ?? ''),
    params.get('encapsulation') === 'audiosocket' ? null : 'encapsulation must be audiosocket',
    params.get('transport') === 'tcp' ? null : 'audiosocket needs transport=tcp',
    CODECS.includes(params.get('format') ?? '') ? null : `format ${params.get('format')} is not one of ${CODECS.join(', ')}`,
    UUID.test(params.get('data') ?? '') ? null : 'data must be the UUID (Asterisk refuses audiosocket without it)',
    [null, 'client'].includes(params.get('connection_type')) ? null : 'Asterisk connects to the server: connection_type=client',
  ];
  return problems.filter((p): p is string => p !== null);
}
