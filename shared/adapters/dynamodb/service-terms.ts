import type { DirectoryEditor } from '#directory/ports.ts';
import type { ServiceTerms } from '#referral/ports.ts';

/** A service's terms as an offer reads them: its profile in the directory table (one GetItem, read-only). */
export function serviceTerms(directory: Pick<DirectoryEditor, 'get'>): ServiceTerms {
  return { responseDays: async (serviceId) => (await directory.get('service', serviceId))?.responseDays };
}
