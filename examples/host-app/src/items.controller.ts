import { Body, Controller, Post } from '@nestjs/common';
import { HandoffService, HandoffWriter, type HandoffWriteResult } from 'nestjs-hinted-handoff';

/** Stores each item on every node; a node that is down gets it later, in order. */
@Controller('items')
export class ItemsController {
  constructor(
    private readonly handoff: HandoffService,
    private readonly writer: HandoffWriter,
  ) {}

  @Post()
  async create(@Body() item: Record<string, unknown>) {
    const payload = Buffer.from(JSON.stringify(item));
    const nodes: Record<string, HandoffWriteResult> = {};
    for (const { id } of this.handoff.nodes().filter((n) => n.configured)) {
      nodes[id] = await this.writer.write(id, payload);
    }
    return { nodes };
  }
}
