import * as z from 'zod';

/**
 * A practice's ODS code, on its own (directory.ts re-exports it): the caller's claims and the referral name
 * practices by it, and importing it from here keeps the directory's schemas out of functions that never read the
 * directory (their cold start builds none of them). Marked pure, so a function that never reads one bundles none.
 */
export const OdsCode = /* @__PURE__ */ z
  .string()
  .max(6, { abort: true, error: 'an ODS practice code is one capital letter and five digits' })
  .regex(/^[A-Z]\d{5}$/, 'an ODS practice code is one capital letter and five digits');
