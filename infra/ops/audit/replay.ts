import type { AuditLink, ChainVerdict } from '#audit/domain/chain.ts';
import { planReplay, type ReplayPlan, type ReplayStep } from './replay-plan.ts';
import type { ReplayTarget } from './replay-send.ts';

/**
 * `npm run audit -- replay`: one referral's trail as a verified timeline, then the steps it shows never completed,
 * re-sent (or, with --dry-run, only named). The SQS client is made only when there is something to send, so a
 * trail with nothing left to finish, or a dry run, needs no SQS at all. Exit 0 when the chain verifies and every
 * planned message went (or would go); 1 when there is no trail, the chain is broken (nothing sent), or a send failed.
 */

export interface ReplayOptions {
  referralId: string;
  json: boolean;
  dryRun: boolean;
  sqs: ReplayTarget;
  /** The timeline's lines (run.ts owns how a trail is printed). */
  timeline: string[];
  print: (line: string) => void;
  /** Progress while sending, and errors. */
  err: NodeJS.WritableStream;
  /** Sends the steps (replay-send.ts unless a test says otherwise). */
  send?: (
    steps: readonly ReplayStep[],
    target: ReplayTarget,
    onSent: (step: ReplayStep) => void,
  ) => Promise<void>;
}

export async function replay(
  options: ReplayOptions,
  links: readonly AuditLink[],
  verdict: ChainVerdict,
): Promise<number> {
  const plan = planReplay(options.referralId, links, verdict);
  const { print } = options;
  const sent: ReplayStep[] = [];
  const report = (failure?: string) => {
    if (options.json)
      print(
        JSON.stringify(
          {
            referralId: options.referralId,
            verdict,
            links,
            plan: { steps: plan.steps, notes: plan.notes },
            dryRun: options.dryRun,
            sent: sent.length,
            ...(failure === undefined ? {} : { failure }),
          },
          null,
          2,
        ),
      );
  };
  if (!options.json) {
    for (const line of options.timeline) print(line);
    print('');
    for (const line of planLines(plan, options.dryRun)) print(line);
  }
  if (!plan.trusted) {
    report();
    return 1;
  }
  if (options.dryRun || plan.steps.length === 0) {
    report();
    return 0;
  }
  const send = options.send ?? (await import('./replay-send.ts')).sendSteps;
  try {
    await send(plan.steps, options.sqs, (step) => {
      sent.push(step);
      const line = `  sent ${sent.length}/${plan.steps.length}: ${step.queue} ${step.id}`;
      if (options.json) options.err.write(`${line}\n`);
      else print(line);
    });
  } catch (error) {
    const failure = `re-sending failed after ${sent.length} of ${plan.steps.length}: ${(error as Error).message}`;
    options.err.write(`npm run audit failed: ${failure}\n`);
    report(failure);
    return 1;
  }
  report();
  if (!options.json)
    print(
      `Done: ${sent.length} message(s) re-sent; the functions finish the steps (replay again to see them in the trail).`,
    );
  return 0;
}

/** The plan as the operator reads it: each step's sentence, or why there is nothing to do. */
export function planLines(plan: ReplayPlan, dryRun: boolean): string[] {
  if (plan.steps.length === 0) return plan.notes;
  const n = plan.steps.length;
  return [
    dryRun
      ? `Dry run: ${n} step(s) never completed; would re-send (nothing sent):`
      : `${n} step(s) never completed; re-sending:`,
    ...plan.steps.map((step, i) => `  ${i + 1}. ${step.says}`),
    ...plan.notes,
  ];
}
