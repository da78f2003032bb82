import { parseArgs } from 'node:util';

/**
 * The command-line contract every npm script with options keeps: options and usage are declared once, `--help` /
 * `-h` prints the usage to stdout and exits 0, and any argument problem (unknown option, missing value, unexpected
 * positional, a value outside its fixed set) prints one line saying what is wrong plus the usage to stderr and
 * exits 2, never a stack trace. Built on util.parseArgs, so no dependency.
 */

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** The option may be given more than once; its value is then an array. */
  multiple?: boolean;
  default?: string | boolean | string[] | boolean[];
  /** A string option that must be given; its value is then never undefined. */
  required?: boolean;
  /** The only values a string option accepts (checked, and listed in the usage). */
  choices?: readonly string[];
  /** Stands for the value in the usage, e.g. `N` in `--max N`. */
  placeholder?: string;
  description: string;
}

export type OptionSpecs = Record<string, OptionSpec>;

export interface CommandSpec<O extends OptionSpecs> {
  /** The usage lines, each as it is typed, e.g. `npm run redrive -- --queue NAME [--max N]`. */
  synopsis: readonly string[];
  /** What the command does, a sentence or two. */
  summary: string;
  options: O;
  /** Each environment variable the command reads, and what it is for (with its default). */
  environment: Readonly<Record<string, string>>;
  examples: readonly string[];
}

type SingleValue<S extends OptionSpec> = S['type'] extends 'boolean'
  ? boolean
  : S extends { choices: readonly (infer C extends string)[] }
    ? C
    : string;
type OptionValue<S extends OptionSpec> = S extends { multiple: true } ? SingleValue<S>[] : SingleValue<S>;
type Given<S extends OptionSpec> = S extends { default: unknown } | { required: true } ? true : false;

/** The parsed options: a value is `undefined` only when the option has no default and is not required. */
export type OptionValues<O extends OptionSpecs> = {
  [K in keyof O]: Given<O[K]> extends true ? OptionValue<O[K]> : OptionValue<O[K]> | undefined;
};

export type ParseOutcome<O extends OptionSpecs> =
  { kind: 'values'; values: OptionValues<O> } | { kind: 'help' } | { kind: 'error'; message: string };

export interface Command<O extends OptionSpecs> {
  readonly usage: string;
  /** Parses without printing or exiting. */
  check(args: readonly string[]): ParseOutcome<O>;
  /** Parses (by default process.argv); prints and exits on --help (0) or an argument problem (2). */
  parse(args?: readonly string[]): OptionValues<O>;
  /** A problem found after parsing (e.g. two options that must come together): message and usage, exit 2. */
  fail(message: string): never;
}

const helpOption: OptionSpec = { type: 'boolean', short: 'h', description: 'show this help and exit' };

function optionLabel(name: string, spec: OptionSpec): string {
  const long = `--${name}${spec.type === 'string' ? ` ${spec.placeholder ?? 'VALUE'}` : ''}`;
  return spec.short ? `-${spec.short}, ${long}` : `    ${long}`;
}

function optionText(spec: OptionSpec): string {
  const notes = [
    spec.choices ? `one of: ${spec.choices.join(', ')}` : undefined,
    spec.multiple ? 'repeatable' : undefined,
    spec.required ? 'required' : undefined,
    spec.default !== undefined && spec.default !== false ? `default ${String(spec.default)}` : undefined,
  ].filter((note) => note !== undefined);
  return notes.length > 0 ? `${spec.description} (${notes.join('; ')})` : spec.description;
}

/** Left column padded to the widest entry, so the descriptions line up. */
function columns(rows: ReadonlyArray<readonly [string, string]>): string[] {
  const width = Math.max(...rows.map(([left]) => left.length));
  return rows.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`);
}

function usageText<O extends OptionSpecs>(spec: CommandSpec<O>): string {
  const options = { ...spec.options, help: helpOption };
  const environment = Object.entries(spec.environment);
  const [first = '', ...rest] = spec.synopsis;
  return [
    `Usage: ${first}`,
    ...rest.map((line) => `       ${line}`),
    '',
    spec.summary,
    '',
    'Options:',
    ...columns(
      Object.entries(options).map(([name, option]) => [optionLabel(name, option), optionText(option)]),
    ),
    '',
    'Environment:',
    ...(environment.length > 0 ? columns(environment) : ['  none read']),
    '',
    spec.examples.length > 1 ? 'Examples:' : 'Example:',
    ...spec.examples.map((example) => `  ${example}`),
  ].join('\n');
}

/** Node's messages are right but long; an unknown option's advice about positionals does not apply here. */
function problemOf(error: unknown): string {
  const { code, message } = error as NodeJS.ErrnoException;
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return message.split('. ')[0] ?? message;
  return message;
}

export function defineCommand<const O extends OptionSpecs>(spec: CommandSpec<O>): Command<O> {
  const usage = usageText(spec);
  // util.parseArgs takes only its own fields; description, choices etc. are ours.
  const parseArgsOptions = Object.fromEntries(
    Object.entries({ ...spec.options, help: helpOption }).map(([name, option]) => [
      name,
      {
        type: option.type,
        ...(option.short ? { short: option.short } : {}),
        ...(option.multiple ? { multiple: true } : {}),
        ...(option.default !== undefined ? { default: option.default } : {}),
      },
    ]),
  );

  function check(args: readonly string[]): ParseOutcome<O> {
    let values: Record<string, string | boolean | Array<string | boolean> | undefined>;
    try {
      ({ values } = parseArgs({
        args: [...args],
        options: parseArgsOptions,
        strict: true,
        allowPositionals: false,
      }));
    } catch (error) {
      return { kind: 'error', message: problemOf(error) };
    }
    if (values.help === true) return { kind: 'help' };
    for (const [name, option] of Object.entries(spec.options)) {
      const value = values[name];
      if (option.required && value === undefined) return { kind: 'error', message: `--${name} is required` };
      const given = value === undefined ? [] : Array.isArray(value) ? value : [value];
      const outside = option.choices ? given.filter((v) => !option.choices?.includes(String(v))) : [];
      if (outside.length > 0) {
        return {
          kind: 'error',
          message: `--${name} ${outside.map((v) => `"${String(v)}"`).join(', ')}: must be one of ${option.choices?.join(', ')}`,
        };
      }
    }
    delete values.help;
    // The checks above are what make the values match the declared types.
    return { kind: 'values', values: values as OptionValues<O> };
  }

  function fail(message: string): never {
    process.stderr.write(`${message}\n\n${usage}\n`);
    process.exit(2);
  }

  function parse(args: readonly string[] = process.argv.slice(2)): OptionValues<O> {
    const outcome = check(args);
    if (outcome.kind === 'error') fail(outcome.message);
    if (outcome.kind === 'help') {
      process.stdout.write(`${usage}\n`);
      process.exit(0);
    }
    return outcome.values;
  }

  return { usage, check, parse, fail };
}

/**
 * A command's words (`export volumes`, `import nspl FILE`) out of its arguments, before its options are parsed
 * (util.parseArgs takes no positionals here). An option that takes a value (a `string` option of any of
 * `optionSets`) keeps the value after it, so `--out report.csv` is one option, not an option and a word; `--` is
 * dropped.
 */
export function splitWords(
  args: readonly string[],
  ...optionSets: OptionSpecs[]
): { words: string[]; flags: string[] } {
  const takesValue = new Set(
    optionSets.flatMap((options) =>
      Object.entries(options).flatMap(([name, spec]) => (spec.type === 'string' ? [name] : [])),
    ),
  );
  const words: string[] = [];
  const flags: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (arg === '--') continue;
    if (!arg.startsWith('-') || arg === '-') {
      words.push(arg);
      continue;
    }
    flags.push(arg);
    if (!arg.includes('=') && takesValue.has(arg.replace(/^--?/, '')) && i + 1 < args.length)
      flags.push(args[++i] ?? '');
  }
  return { words, flags };
}
