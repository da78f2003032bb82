import { InMemoryDirectoryEditor } from './fakes-directory-editor.ts';
import { describeDirectoryEditorContract } from '../contract/directory-editor.contract.ts';

// The in-memory fake against the contract the DynamoDB adapter also meets
// (test/integration/directory-editor.contract.test.ts); the fake is its own Directory reader.

describeDirectoryEditorContract('in-memory fake', () => {
  const editor = new InMemoryDirectoryEditor();
  return { editor, directory: editor };
});
