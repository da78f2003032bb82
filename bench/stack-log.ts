/**
 * The stack's log, discarded (one line per request and per webhook would drown the progress output and cost
 * console time in the measured process), but with lines that signal trouble counted and a few kept as examples.
 */

const trouble = /error|fail|rejected|timed out|✗| -> 5\d\d /i;
const keptExamples = 10;

export class StackLog {
  lines = 0;
  troubleLines = 0;
  readonly examples: string[] = [];

  readonly write = (line: string): void => {
    this.lines++;
    if (!trouble.test(line)) return;
    this.troubleLines++;
    if (this.examples.length < keptExamples) this.examples.push(line.slice(0, 500));
  };

  summary(): { lines: number; troubleLines: number; examples: string[] } {
    return { lines: this.lines, troubleLines: this.troubleLines, examples: [...this.examples] };
  }
}
