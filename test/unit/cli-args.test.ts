import { describe, expect, it } from 'vitest';
import { splitWords } from '../../infra/cli/args.ts';

// The operator commands' words (`export volumes`) taken out before their options are parsed: a value stays with the
// option that takes it, wherever the words and options come.

const exportOptions = {
  out: { type: 'string', placeholder: 'FILE', description: 'where' },
  'dry-run': { type: 'boolean', default: false, description: 'nothing written' },
} as const;
const importOptions = { edition: { type: 'string', placeholder: 'YEAR', description: 'which' } } as const;

describe('splitWords', () => {
  it("keeps a string option's value with it, and a boolean's next argument as a word", () => {
    expect(
      splitWords(['export', '--out', 'report.csv', 'volumes', '--dry-run', 'extra'], exportOptions),
    ).toEqual({ words: ['export', 'volumes', 'extra'], flags: ['--out', 'report.csv', '--dry-run'] });
  });

  it('reads every option set given, takes --name=value as one argument, drops --, and keeps - as a word', () => {
    expect(
      splitWords(
        ['import', '--edition', '2019', '--out=x.csv', '--', '-', 'file.csv'],
        exportOptions,
        importOptions,
      ),
    ).toEqual({ words: ['import', '-', 'file.csv'], flags: ['--edition', '2019', '--out=x.csv'] });
  });

  it('leaves a string option last with no value for the parser to refuse', () => {
    expect(splitWords(['export', '--out'], exportOptions)).toEqual({ words: ['export'], flags: ['--out'] });
  });
});
