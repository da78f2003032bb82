import {
  MessageRejected,
  SESv2Client,
  SESv2ServiceException,
  SendEmailCommand,
  TooManyRequestsException,
} from '@aws-sdk/client-sesv2';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { SesEmailSender } from '#adapters/email/ses-email-sender.ts';

// How SES's answers are sorted for the retry policy (the SDK mocked: the emulator never refuses).

const ses = mockClient(SESv2Client);
const sender = new SesEmailSender(new SESv2Client({ region: 'eu-west-2' }), 'referrals@example.test');
const email = { to: 'partner@example.test', subject: 'You have a new referral', text: 't', html: '<p>h</p>' };
const metadata = { $metadata: {} };

beforeEach(() => ses.reset());

describe('SesEmailSender', () => {
  it('sends from the configured address, to the one recipient, with a text and an HTML part', async () => {
    ses.on(SendEmailCommand).resolves({ MessageId: 'm-1' });
    await expect(sender.send(email)).resolves.toEqual({ ok: true, messageId: 'm-1' });
    expect(ses.commandCalls(SendEmailCommand)[0]?.args[0].input).toEqual({
      FromEmailAddress: 'referrals@example.test',
      Destination: { ToAddresses: ['partner@example.test'] },
      Content: {
        Simple: {
          Subject: { Data: 'You have a new referral', Charset: 'UTF-8' },
          Body: { Text: { Data: 't', Charset: 'UTF-8' }, Html: { Data: '<p>h</p>', Charset: 'UTF-8' } },
        },
      },
    });
  });

  it('a message SES rejects is refused for good', async () => {
    ses
      .on(SendEmailCommand)
      .rejects(new MessageRejected({ message: 'Email address is not verified', ...metadata }));
    await expect(sender.send(email)).resolves.toEqual({
      ok: false,
      failure: 'mail-rejected',
      reason: 'MessageRejected',
    });
  });

  it('throttling, and any fault on SES side, is "not now"', async () => {
    ses.on(SendEmailCommand).rejects(new TooManyRequestsException({ message: 'slow down', ...metadata }));
    await expect(sender.send(email)).resolves.toMatchObject({ ok: false, failure: 'mail-deferred' });
    ses.on(SendEmailCommand).rejects(
      new SESv2ServiceException({
        name: 'InternalFailure',
        $fault: 'server',
        message: 'oops',
        ...metadata,
      }),
    );
    await expect(sender.send(email)).resolves.toMatchObject({ ok: false, failure: 'mail-deferred' });
  });

  it('no answer at all (a network failure) is thrown, for the caller to retry as unreachable', async () => {
    ses.on(SendEmailCommand).rejects(new TypeError('fetch failed'));
    await expect(sender.send(email)).rejects.toThrow('fetch failed');
  });
});
