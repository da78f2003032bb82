/**
 * The email a recipient without a webhook gets: that there is news, in plain words, and a link to sign in to the
 * inbox page. Nothing else, on purpose. Email is neither end-to-end secure nor reliably addressed (a shared charity
 * mailbox, a forwarded message, a typo in the directory), so it carries NO patient data and no referral details at
 * all: no name, NHS number, birth date, postcode, phone or email of the patient, no needs, no area, no referral id
 * (an id is only useful after signing in, where the inbox shows it). The recipient reads the referral in the inbox,
 * after signing in, at its content level.
 *
 * The words depend only on the notice's kind. A kind the notifier does not know yet still gets an email: the
 * general sentence.
 */

export interface EmailContent {
  subject: string;
  text: string;
  html: string;
}

/** What each kind of notice says, as a sentence about "a referral" (never which one). */
const sentences: Record<string, string> = {
  assigned: 'You have a new referral.',
  updated: 'A referral you hold has been updated by the referrer.',
  cancelled: 'A referral you hold has been cancelled by the referrer: please stop work on it.',
  withdrawn: 'A referral offered to you has been withdrawn.',
  reminder: 'A referral offered to you is waiting for your answer.',
  escalated: 'A referral offered to a partner has not been answered in time and needs your attention.',
  'offer-declined': 'A partner has declined a referral you sent them.',
  'offer-expired': 'A partner did not answer a referral in time.',
  'offer-closed': 'A partner has closed a referral you sent them.',
  accepted: 'A referral has been accepted.',
  seen: 'A referral has been seen.',
  declined: 'A referral has been declined.',
  'intervention-started': 'Support has started for a referral.',
  closed: 'A referral has been closed.',
};

const subjects: Record<string, string> = {
  assigned: 'You have a new referral',
  reminder: 'A referral is waiting for your answer',
  cancelled: 'A referral has been cancelled',
};

const generalSentence = 'There is news about a referral.';

/** The email for a notice of `kind`; `inboxUrl` is the inbox page's sign-in address (a deployment setting). */
export function emailNotice(kind: string, inboxUrl: string): EmailContent {
  const sentence = sentences[kind] ?? generalSentence;
  const subject = subjects[kind] ?? 'News about a referral';
  const text =
    `${sentence}\n\n` +
    `Sign in to your inbox to see it: ${inboxUrl}\n\n` +
    "For the patient's privacy this email says nothing more. Do not reply to it.\n";
  const html =
    `<p>${escapeHtml(sentence)}</p>` +
    `<p><a href="${escapeHtml(inboxUrl)}">Sign in to your inbox</a> to see it.</p>` +
    "<p>For the patient's privacy this email says nothing more. Do not reply to it.</p>";
  return { subject, text, html };
}

function escapeHtml(value: string): string {
  return value
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}
