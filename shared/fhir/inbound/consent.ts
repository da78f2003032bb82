import type { FieldProblem } from '#kernel/errors.ts';
import { anyVcsePartner, type SharingBack } from '#referral/domain/referral.ts';
import {
  consentRecipientSystem,
  fullDetailCode,
  Organization,
  partnerIdentifierSystem,
  sharingBackSystem,
  type Consent,
} from '#fhir/inbound/bundle.ts';
import type { BundleIndex } from '#fhir/inbound/bundle-index.ts';
import { isSystem } from '#fhir/inbound/normalise.ts';
import { codingsOf, entryBase, type FieldMap } from '#fhir/inbound/provenance.ts';

/**
 * Consent entries -> the candidate's `consent` grants, one per VCSE partner named, and its `sharingBack` (bundle.ts
 * documents the profile). Only an active Consent within its period grants or refuses; another status, or a lapsed
 * one, is read past; a Consent with no status is refused.
 */

export interface ConsentReading {
  grants: Array<{ recipient?: string; granted: boolean }>;
  /** Set by a Consent about sharing back with the practice; `codes-only` (an objection) is never overwritten. */
  sharingBack?: SharingBack;
}

export function readConsent(
  consent: Consent,
  base: string,
  index: BundleIndex,
  now: Date,
  reading: ConsentReading,
  fields: FieldMap,
  problems: FieldProblem[],
) {
  const grants = reading.grants;
  if (consent.status === undefined) {
    problems.push({
      field: `${base}.status`,
      rule: 'is required (active to grant or refuse)',
      kind: 'required',
    });
    return;
  }
  const provision = consent.provision;
  if (consent.status !== 'active' || provision === undefined) return;
  const end = provision.period?.end === undefined ? Number.NaN : Date.parse(provision.period.end);
  if (!Number.isNaN(end) && end <= now.getTime()) return; // lapsed

  let granted: boolean;
  if (provision.type === 'permit' || provision.type === 'deny') {
    granted = provision.type === 'permit';
  } else {
    problems.push({
      field: `${base}.provision.type`,
      rule: provision.type === undefined ? 'is required: permit or deny' : 'must be one of: permit, deny',
      kind: provision.type === undefined ? 'required' : 'value',
    });
    return;
  }

  const add = (recipient: string | undefined, recipientExpression: string) => {
    const at = grants.length;
    fields.set(`consent.${at}`, base);
    fields.set(`consent.${at}.recipient`, recipientExpression);
    fields.set(`consent.${at}.granted`, `${base}.provision.type`);
    grants.push({ ...(recipient === undefined ? {} : { recipient }), granted });
  };

  let named = 0;
  (provision.actor ?? []).forEach((actor, a) => {
    named++;
    const actorBase = `${base}.provision.actor[${a}].reference`;
    const identifier = actor.reference.identifier;
    if (identifier !== undefined && isSystem(identifier.system, partnerIdentifierSystem)) {
      add(identifier.value, `${actorBase}.identifier.value`);
      return;
    }
    if (actor.reference.reference !== undefined) {
      const target = index.resolve(actor.reference, actorBase, ['Organization'], problems, false);
      if (target === undefined) return;
      const organization = Organization.safeParse(index.resource(target));
      const identifiers = organization.success ? (organization.data.identifier ?? []) : [];
      const i = identifiers.findIndex((id) => isSystem(id.system, partnerIdentifierSystem));
      if (i !== -1) {
        add(identifiers[i]?.value, `${entryBase(target)}.identifier[${i}].value`);
        return;
      }
    }
    problems.push({
      field: actorBase,
      rule: `must name a VCSE partner: an identifier with system ${partnerIdentifierSystem} (the directory partner id), or a reference to an Organization entry carrying one`,
      kind: 'value',
    });
  });
  for (const { coding, expression } of codingsOf(provision.code, `${base}.provision.code`, true)) {
    if (isSystem(coding.system, sharingBackSystem)) {
      named++;
      if (coding.code !== fullDetailCode) {
        problems.push({ field: `${expression}.code`, rule: `must be ${fullDetailCode}`, kind: 'value' });
      } else if (reading.sharingBack !== 'codes-only') {
        // The objection is the patient's protection: a later permit cannot undo a deny in another Consent.
        reading.sharingBack = granted ? 'full' : 'codes-only';
        fields.set('sharingBack', `${base}.provision.type`);
      }
      continue;
    }
    if (!isSystem(coding.system, consentRecipientSystem)) continue;
    named++;
    if (coding.code === anyVcsePartner) add(anyVcsePartner, `${expression}.code`);
    else problems.push({ field: `${expression}.code`, rule: `must be ${anyVcsePartner}`, kind: 'value' });
  }
  if (named === 0) {
    problems.push({
      field: `${base}.provision.actor`,
      rule: `must name the partner(s) this consent is for, or provision.code must hold ${consentRecipientSystem}|${anyVcsePartner} (or ${sharingBackSystem}|${fullDetailCode} for sharing back with the practice)`,
      kind: 'required',
    });
  }
}
