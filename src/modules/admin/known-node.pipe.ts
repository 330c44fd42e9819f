import { Injectable, NotFoundException, PipeTransform } from '@nestjs/common';
import { isValidNodeId } from '../../config/node-id';
import { HandoffService } from '../replay/handoff.service';

/** How much of a refused id the 404 quotes: enough to recognise it, not a log-flooding echo. */
const MAX_QUOTED_ID = 64;

/**
 * Lets a `:id` route parameter through only when it is a well-formed id of a node the service
 * knows. The pattern check comes first, so `..` or a decoded `a/../b` is refused before
 * anything could look it up, let alone build a path from it.
 */
@Injectable()
export class KnownNodePipe implements PipeTransform<unknown, string> {
  constructor(private readonly handoff: HandoffService) {}

  transform(id: unknown): string {
    if (isValidNodeId(id) && this.handoff.hasNode(id)) return id;
    const quoted = typeof id === 'string' ? id.slice(0, MAX_QUOTED_ID) : String(id);
    throw new NotFoundException({ error: `unknown node ${JSON.stringify(quoted)}` });
  }
}
