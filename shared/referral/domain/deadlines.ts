/**
 * How long a partner has after the one reminder: the reminder says "please answer by ...", and silence past that
 * expires the offer. Two days: long enough for a small charity that checks its inbox twice a week to see it on a
 * working day, short enough that the patient waits at most a few days more for the next partner.
 */
export const reminderGraceHours = 48;

/**
 * The deadline a reminder sets: `reminderGraceHours` from when it is sent, and never earlier than the deadline it
 * chases (a reminder sent early, before a clock correction, must not shorten the time a partner was given).
 */
export function reminderDeadline(deadline: string, remindedAt: string): string {
  const fromReminder = new Date(Date.parse(remindedAt) + reminderGraceHours * 3_600_000).toISOString();
  return fromReminder > deadline ? fromReminder : deadline;
}
