import { Test, type TestingModule } from '@nestjs/testing';
import { HandoffService, HintedHandoffModule } from 'nestjs-hinted-handoff';
import { createHandoffTestSettings, type HandoffTestSettings } from 'nestjs-hinted-handoff/testing';
import { ItemsController } from '../src/items.controller';

describe('ItemsController', () => {
  let hh: HandoffTestSettings;
  let moduleRef: TestingModule;

  beforeEach(async () => {
    // Nothing listens on port 9: node a is down.
    hh = await createHandoffTestSettings({ nodes: [{ id: 'a', url: 'http://127.0.0.1:9/write' }] });
    moduleRef = await Test.createTestingModule({
      imports: [HintedHandoffModule.forRoot(hh.settings)],
      controllers: [ItemsController],
    }).compile();
    await moduleRef.init();
  });

  afterEach(async () => {
    await moduleRef.close();
    await hh.cleanup();
  });

  it('hands the item off to a node that does not answer', async () => {
    await expect(moduleRef.get(ItemsController).create({ n: 1 })).resolves.toEqual({
      nodes: { a: 'handed-off' },
    });
    expect(moduleRef.get(HandoffService).backlog('a').entries).toBe(1);
  });
});
