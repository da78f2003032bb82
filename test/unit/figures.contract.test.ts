import { InMemoryFigures } from './fakes-figures.ts';
import { describeFiguresContract } from '../contract/figures.contract.ts';

// The in-memory fake against the contract the DynamoDB adapter also meets (test/integration/figures.contract.test.ts).

describeFiguresContract('in-memory fake', () => new InMemoryFigures());
