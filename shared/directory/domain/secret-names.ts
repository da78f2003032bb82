import type { SecretOwnerKind } from '#directory/domain/directory.ts';

// On their own (directory.ts re-exports them) so that the secret stores' adapters do not build the directory's
// schemas at import.

/** The secret store's name for a recipient's (or a practice's) signing secret. */
export const secretNameOf = (kind: SecretOwnerKind, id: string): string => `${kind}/${id}`;
/** The secret that signs the messages to a practice's endpoint (the same store, its own kind). */
export const practiceSecretName = (ods: string): string => secretNameOf('practice', ods);
