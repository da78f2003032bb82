import * as z from 'zod';
import {
  DirectoryId,
  LinkWorkerTeam,
  Partner,
  Service,
  Version,
  WebhookSecret,
} from '#directory/domain/directory.ts';
import type { DirectoryRecordKind } from '#directory/ports.ts';

/**
 * What the directory's admin routes read and answer, as zod schemas built from the domain's own strict ones (an
 * unknown or misspelt field is refused, naming it). The API's OpenAPI document names them (shared/http/api-schemas.ts).
 */

/** A new record: the domain record, except that it starts active at version 1 (retiring comes afterwards). */
const newRecordFields = {
  version: z.literal(1).default(1).describe('Always 1 for a new record; may be left out'),
  status: z
    .literal('active')
    .default('active')
    .describe('Always active for a new record (retire it afterwards); may be left out'),
};

/**
 * An edited record: the whole record, as read, with its changes, and `version` the version it was read at (the
 * version the edit was made on). Stored as version + 1 if that is still the version stored; otherwise 409.
 */
const editedRecordFields = {
  version: Version.describe(
    'The version this edit was made on, as last read: the edit is refused (409) if the record has moved on since',
  ),
};

export const NewTeamRequest = LinkWorkerTeam.extend(newRecordFields);
export const NewPartnerRequest = Partner.extend(newRecordFields);
// safeExtend: Service has refinements (its coverage's size), which the requests keep.
export const NewServiceRequest = Service.safeExtend(newRecordFields);
export const EditedTeamRequest = LinkWorkerTeam.extend(editedRecordFields);
export const EditedPartnerRequest = Partner.extend(editedRecordFields);
export const EditedServiceRequest = Service.safeExtend(editedRecordFields);

/** The body of retire, pause and resume: the version the change is made on. */
export const VersionedActionRequest = z.strictObject({
  version: Version.describe('The version of the record as last read; 409 if it has moved on since'),
});

/** rotate-secret takes no body (an empty body or `{}`). */
export const EmptyRequest = z.strictObject({});

export const requestSchemas = {
  team: { create: NewTeamRequest, edit: EditedTeamRequest },
  partner: { create: NewPartnerRequest, edit: EditedPartnerRequest },
  service: { create: NewServiceRequest, edit: EditedServiceRequest },
} as const satisfies Record<DirectoryRecordKind, { create: z.ZodType; edit: z.ZodType }>;

/** A recipient's signing secret, shown once: in the answer that made it, never again. */
const signingSecret = WebhookSecret.describe(
  "The recipient's Standard Webhooks signing secret (`whsec_` + base64). Shown only in this answer: keep it, " +
    'give it to the recipient, and rotate it if it is lost',
);

export const CreatedTeamAnswer = z.object({ team: LinkWorkerTeam, signingSecret });
export const CreatedPartnerAnswer = z.object({ partner: Partner, signingSecret });
export const RotatedSecretAnswer = z.object({
  kind: z.enum(['team', 'partner']),
  id: DirectoryId,
  signingSecret,
  rotatedAt: z.iso.datetime().describe('When the new secret was stored; deliveries use it within 5 minutes'),
});
export type RotatedSecretAnswer = z.infer<typeof RotatedSecretAnswer>;
