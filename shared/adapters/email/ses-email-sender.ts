import { SendEmailCommand, type SESv2Client } from '@aws-sdk/client-sesv2';
import type { EmailMessage, EmailOutcome, EmailSender } from '#delivery/ports.ts';

/**
 * Email through SES v2 `SendEmail` (simple content: a subject, a text and an HTML part), from one configured
 * address. SES has no idempotency key: a crash between the send and the delivered mark sends the nudge again, which
 * costs a recipient one more "you have news" email and nothing else (it carries no patient data).
 *
 * SES's answers, sorted for the retry policy:
 * - refused for good (`mail-rejected`): the message or the recipient address is rejected;
 * - not now (`mail-deferred`): throttled, a sending quota reached, sending paused, the account or the From domain
 *   not ready, or a fault on SES's side. Those are this service's problems, not the recipient's: retried, then
 *   dead-lettered (alarmed) so an operator fixes the account and redrives;
 * - no answer at all (a network failure) is thrown, and retried like a webhook that could not be reached.
 */
export class SesEmailSender implements EmailSender {
  constructor(
    private readonly client: SESv2Client,
    private readonly from: string,
  ) {}

  async send(email: EmailMessage): Promise<EmailOutcome> {
    try {
      const { MessageId } = await this.client.send(
        new SendEmailCommand({
          FromEmailAddress: this.from,
          Destination: { ToAddresses: [email.to] },
          Content: {
            Simple: {
              Subject: { Data: email.subject, Charset: 'UTF-8' },
              Body: {
                Text: { Data: email.text, Charset: 'UTF-8' },
                Html: { Data: email.html, Charset: 'UTF-8' },
              },
            },
          },
        }),
      );
      return { ok: true, messageId: MessageId ?? '' };
    } catch (error) {
      const outcome = sesRefusal(error);
      if (outcome) return outcome;
      throw error;
    }
  }
}

const rejected = new Set(['MessageRejected', 'BadRequestException', 'NotFoundException']);

/** SES's refusal as an outcome; undefined when SES did not answer (the error is a network failure). */
function sesRefusal(error: unknown): EmailOutcome | undefined {
  if (!(error instanceof Error) || !('$metadata' in error)) return undefined;
  const fault = (error as { $fault?: string }).$fault;
  if (rejected.has(error.name) && fault !== 'server')
    return { ok: false, failure: 'mail-rejected', reason: error.name };
  return { ok: false, failure: 'mail-deferred', reason: error.name };
}
