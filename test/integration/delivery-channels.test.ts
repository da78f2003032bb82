import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalStack, type LocalStack } from '../../infra/local/local-stack.ts';
import type { StoredEmail } from '../../infra/local/servers.ts';
import { NoticeKind } from '#messages/notice-message.ts';
import type { Referral } from '#referral/domain/referral.ts';
import { auditOf, eventually, sampleReferral, storedReferral } from '../support/local.ts';

// The email and worklist channels on the local stack: partners created through the admin API with an email or a
// worklist channel, a referral routed to them by the real router, the notifier in its worker sending through the
// real SES v2 client to the SES emulator (aws-ses-v2-local), whose mailbox the test reads.

let stack: LocalStack;
let admin: string;
let gp: string;
const emailPartner = 'it-email-coaching';
const worklistPartner = 'it-worklist-befriending';
const partnerAddress = 'referrals@it-email-coaching.example.test';
const patientEmail = 'alex.testpatient@example.test';

async function call(method: string, path: string, token: string, body?: unknown): Promise<Response> {
  return fetch(`${stack.apiUrl}${path}`, {
    method,
    headers: {
      Authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

async function created(path: string, body: unknown): Promise<void> {
  const response = await call('POST', path, admin, body);
  expect(response.status, await response.clone().text()).toBe(201);
}

beforeAll(async () => {
  stack = await startLocalStack({ throttle: { ratePerSecond: 10_000, burst: 10_000 } });
  admin = await stack.issuer.mint({ role: 'admin', subject: 'it-channels-admin' });
  gp = await stack.issuer.mint({ role: 'gp-system', ods: ['A81001'], subject: 'it-channels-gp' });
  // Needs nothing in the sample directory meets in LS6, so what matches them is this test's services.
  await created('/directory/partners', {
    id: emailPartner,
    name: 'IT Email Coaching',
    channel: { kind: 'email', address: partnerAddress },
  });
  await created('/directory/services', {
    id: `${emailPartner}-walks`,
    partnerId: emailPartner,
    name: 'Coaching walks',
    categories: ['health-coaching'],
    coverage: { districts: ['LS6'] },
  });
  await created('/directory/partners', {
    id: worklistPartner,
    name: 'IT Worklist Befriending',
    channel: { kind: 'worklist' },
  });
  await created('/directory/services', {
    id: `${worklistPartner}-visits`,
    partnerId: worklistPartner,
    name: 'Befriending visits',
    categories: ['befriending'],
    coverage: { districts: ['LS6'] },
  });
});
afterAll(() => stack.stop());

async function referAndDeliver(): Promise<Referral> {
  const sample = sampleReferral('leeds-arts-and-mental-health') as { patient: Record<string, unknown> };
  const response = await call('POST', '/referrals', gp, {
    ...sample,
    patient: {
      ...sample.patient,
      contact: { phone: '0113 496 0001', email: patientEmail, preferred: 'email' },
    },
    needs: ['health-coaching', 'befriending'],
  });
  expect(response.status).toBe(202);
  const { referralId } = (await response.json()) as { referralId: string };
  return eventually(async () => {
    const referral = await storedReferral(stack.aws, referralId);
    const states = Object.values(referral?.deliveryStatus ?? {});
    return states.length === 3 && states.every((s) => s.status === 'delivered') ? referral : undefined;
  }, `referral ${referralId}'s three deliveries`);
}

const mailTo = async (address: string, since: number): Promise<StoredEmail[]> =>
  (await stack.aws.ses.mailbox()).filter((e) => e.destination.to.includes(address) && e.at >= since);

describe('email and worklist channels on the local stack', () => {
  it('emails the partner a nudge with no patient identifier and a sign-in link; the worklist partner is pushed nothing', async () => {
    const since = Math.floor(Date.now() / 1000);
    const referral = await referAndDeliver();
    const emailDelivery = `${referral.referralId}.partner.${emailPartner}`;
    const worklistDelivery = `${referral.referralId}.partner.${worklistPartner}`;
    expect(referral.deliveryStatus?.[emailDelivery]).toMatchObject({ status: 'delivered', channel: 'email' });
    expect(referral.deliveryStatus?.[worklistDelivery]).toMatchObject({
      status: 'delivered',
      channel: 'worklist',
    });
    expect(referral.deliveryStatus?.[`${referral.referralId}.team.lw-woodhouse`]).toMatchObject({
      channel: 'webhook',
    });

    const [email, ...more] = await eventually(async () => {
      const mail = await mailTo(partnerAddress, since);
      return mail.length > 0 ? mail : undefined;
    }, 'the email in the emulator');
    expect(more).toEqual([]);
    expect(email?.from).toBe('referrals@social-prescribing.localhost');
    expect(email?.subject).toBe('You have a new referral');
    expect(email?.body.text).toContain(`${stack.apiUrl}/inbox`);
    expect(email?.body.html).toContain(`href="${stack.apiUrl}/inbox"`);
    // No patient identifier at all, and nothing about the referral either.
    const everything = JSON.stringify(email);
    for (const identifier of [
      '9995260182',
      '999 526 0182',
      'Alex',
      'Testpatient',
      '1961-04-12',
      'LS6 1AA',
      '0113 496 0001',
      '01134960001',
      patientEmail,
      referral.referralId,
      'health-coaching',
      'Low mood',
    ])
      expect(everything).not.toContain(identifier);

    // The worklist partner: no webhook, no email; only its worklist.
    expect(stack.receiver.received.filter((r) => r.path.includes(worklistPartner))).toEqual([]);
    expect(
      (await stack.aws.ses.mailbox()).filter((e) => JSON.stringify(e).includes(worklistPartner)),
    ).toEqual([]);
    // Each delivery is audited just after it is marked delivered (the chain's read, then its put): wait for all three.
    const delivered = await eventually(async () => {
      const entries = (await auditOf(stack.aws, referral.referralId)).filter(
        (a) => a.action === 'referral.delivered',
      );
      return entries.length === 3 ? entries : undefined;
    }, 'three delivered audit entries');
    expect(delivered.map((a) => (a.detail as { channel: string }).channel).sort()).toEqual([
      'email',
      'webhook',
      'worklist',
    ]);
  });

  it.skipIf(!NoticeKind.options.some((k) => k === 'reminder'))(
    'a notice of another kind (reminder) goes by each channel as a small event: signed webhook, plain-words email, nothing for a worklist',
    async () => {
      const earlier = (await mailTo(partnerAddress, 0)).length;
      const referral = await referAndDeliver();
      // The referral's own email may share the second with what follows: known ids, not a time, tell them apart.
      await eventually(
        async () => ((await mailTo(partnerAddress, 0)).length > earlier ? true : undefined),
        "the referral's own email",
      );
      const before = new Set((await stack.aws.ses.mailbox()).map((e) => e.messageId));
      const send = (deliveryId: string) =>
        stack.aws.sqs.send(
          new SendMessageCommand({
            QueueUrl: stack.aws.queues.notifications.url,
            MessageBody: JSON.stringify({
              referralId: referral.referralId,
              deliveryId,
              kind: 'reminder',
              offerId: `${deliveryId}.offer`,
            }),
          }),
        );
      const team = `${referral.referralId}.team.lw-woodhouse`;
      await send(team);
      await send(`${referral.referralId}.partner.${emailPartner}`);
      await send(`${referral.referralId}.partner.${worklistPartner}`);

      const hook = await eventually(
        async () => stack.receiver.received.find((r) => r.webhookId === `${team}.reminder.${team}.offer`),
        'the team reminder webhook',
      );
      expect(hook.payload).toMatchObject({
        type: 'referral.reminder',
        data: {
          referralId: referral.referralId,
          deliveryId: team,
          kind: 'reminder',
          offerId: `${team}.offer`,
        },
      });
      expect(hook.raw.body).not.toContain('9995260182');
      const [email] = await eventually(async () => {
        const mail = (await mailTo(partnerAddress, 0)).filter((e) => !before.has(e.messageId));
        return mail.length > 0 ? mail : undefined;
      }, 'the reminder email');
      expect(email?.subject).toBe('A referral is waiting for your answer');
      const sent = await eventually(async () => {
        const entries = (await auditOf(stack.aws, referral.referralId)).filter(
          (a) => a.action === 'referral.notice-sent',
        );
        return entries.length === 3 ? entries : undefined;
      }, 'three notice-sent audit entries');
      expect(sent.map((a) => (a.detail as { channel: string }).channel).sort()).toEqual([
        'email',
        'webhook',
        'worklist',
      ]);
    },
  );
});
