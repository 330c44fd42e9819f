import { join } from 'node:path';
import { LineChild } from '../support/line-child';

const FIXTURES = join(__dirname, 'fixtures');

/** A `node` child running fixtures/queue-child.js on the TypeScript sources (compiled by swc on load). */
export class QueueChild extends LineChild {
  constructor(args: string[]) {
    super(['-r', join(FIXTURES, 'ts-register.js'), join(FIXTURES, 'queue-child.js'), ...args]);
  }
}
