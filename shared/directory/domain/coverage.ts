import type { Partner, Service } from '#directory/domain/directory.ts';

/**
 * An entry of the directory's coverage index: a service that offers a category in an area, with who its partner is
 * and how it answers (never how to reach it, which matching does not need).
 */
export interface ServiceCandidate {
  service: Service;
  partner: Pick<Partner, 'id' | 'name' | 'status' | 'responseRecord'>;
}

export function candidateOf(service: Service, partner: Partner): ServiceCandidate {
  return {
    service,
    partner: {
      id: partner.id,
      name: partner.name,
      status: partner.status,
      ...(partner.responseRecord ? { responseRecord: partner.responseRecord } : {}),
    },
  };
}
