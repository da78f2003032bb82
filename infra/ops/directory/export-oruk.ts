import { exportOruk, partnerDraftOf, serviceDraftOf } from '#directory/domain/oruk.ts';
import type { DirectoryEditor, DirectoryRecordKind, DirectoryRecords } from '#directory/ports.ts';

/**
 * `npm run directory -- export`: every partner and service (retired ones too) as one ORUK 3.0 page, services in id
 * order, so that two exports of the same directory are the same file and `import` of it changes nothing.
 */
export async function exportDirectory(editor: DirectoryEditor): Promise<Record<string, unknown>> {
  const [partners, services] = await Promise.all([all(editor, 'partner'), all(editor, 'service')]);
  return exportOruk(partners.map(partnerDraftOf), services.map(serviceDraftOf));
}

async function all<K extends DirectoryRecordKind>(
  editor: DirectoryEditor,
  kind: K,
): Promise<Array<DirectoryRecords[K]>> {
  const records: Array<DirectoryRecords[K]> = [];
  for await (const record of editor.list(kind)) records.push(record);
  return records.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
