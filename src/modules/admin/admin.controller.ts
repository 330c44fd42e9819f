import {
  BadGatewayException,
  Controller,
  Get,
  HttpCode,
  Param,
  Post,
  Query,
  UseFilters,
  UseGuards,
  UsePipes,
} from '@nestjs/common';
import type { DeadLetter, NodeStatus } from '../replay/node-status.interface';
import type { StoreStatus } from '../replay/node-store';
import { HandoffService } from '../replay/handoff.service';
import { AdminAction, AdminAuthGuard } from './admin-auth.guard';
import { adminValidationPipe } from './admin-validation.pipe';
import { DeadLettersQueryDto } from './dto/dead-letters-query.dto';
import { PurgeQueryDto } from './dto/purge-query.dto';
import { KnownNodePipe } from './known-node.pipe';
import { operatorError } from './operator-error';
import { UnknownNodeFilter } from './unknown-node.filter';

export interface NodeListResponse {
  /** Which store keeps the hints; with JetStream, the state of this relay's NATS connection. */
  store: StoreStatus;
  nodes: NodeStatus[];
}
export interface ReplayResponse {
  /** Payload bytes delivered by this replay. */
  bytes: number;
  node: NodeStatus;
}
export interface PurgeResponse {
  entries: number;
  bytes: number;
  segments: number;
}
export interface DeadLettersResponse {
  node: string;
  /** Dead letters the node has in all; `entries` may be fewer (limit). */
  count: number;
  lastError?: string;
  entries: DeadLetter[];
}
export interface RequeueResponse {
  requeued: number;
}

/**
 * The operator's controls over hand-off: see each node's backlog, pause and resume its replay,
 * replay now, purge, and inspect or requeue what the node refused. Reads follow the relay's
 * token; actions need the admin token, or a loopback client when none is set (AdminAccess).
 */
@Controller('hh/nodes')
@UseGuards(AdminAuthGuard)
@UsePipes(adminValidationPipe())
@UseFilters(UnknownNodeFilter)
export class AdminController {
  constructor(private readonly handoff: HandoffService) {}

  @Get()
  list(): NodeListResponse {
    // A host's own HandoffService stand-in may predate stores: it is the disk store.
    return { store: this.handoff.store?.() ?? { kind: 'disk' }, nodes: this.handoff.nodes() };
  }

  @Get(':id')
  get(@Param('id', KnownNodePipe) id: string): NodeStatus {
    return this.handoff.node(id);
  }

  @Post(':id/pause')
  @AdminAction()
  @HttpCode(200)
  pause(@Param('id', KnownNodePipe) id: string): NodeStatus {
    this.handoff.pause(id);
    return this.handoff.node(id);
  }

  @Post(':id/resume')
  @AdminAction()
  @HttpCode(200)
  resume(@Param('id', KnownNodePipe) id: string): NodeStatus {
    this.handoff.resume(id);
    return this.handoff.node(id);
  }

  @Post(':id/replay')
  @AdminAction()
  @HttpCode(200)
  async replay(@Param('id', KnownNodePipe) id: string): Promise<ReplayResponse> {
    let bytes: number;
    try {
      bytes = await this.handoff.replayNow(id);
    } catch (err) {
      // The node's failure, not ours: 502, with what the node said (never the payload).
      const message = err instanceof Error ? err.message : String(err);
      throw new BadGatewayException({ error: `replay to node ${id} failed: ${message}` });
    }
    return { bytes, node: this.handoff.node(id) };
  }

  @Post(':id/purge')
  @AdminAction()
  @HttpCode(200)
  async purge(
    @Param('id', KnownNodePipe) id: string,
    @Query() _confirmed: PurgeQueryDto,
  ): Promise<PurgeResponse> {
    const { entries, bytes, segments } = await this.handoff.purge(id).catch((err: unknown) => {
      throw operatorError(id, 'purge', err);
    });
    return { entries, bytes, segments };
  }

  @Get(':id/dead-letters')
  async deadLetters(
    @Param('id', KnownNodePipe) id: string,
    @Query() query: DeadLettersQueryDto,
  ): Promise<DeadLettersResponse> {
    const entries = await this.handoff.deadLetters(id, query.limit).catch((err: unknown) => {
      throw operatorError(id, 'dead-letter listing', err);
    });
    const status = this.handoff.node(id);
    return { node: id, count: status.deadLetters, lastError: status.lastError, entries };
  }

  @Post(':id/dead-letters/requeue')
  @AdminAction()
  @HttpCode(200)
  async requeue(@Param('id', KnownNodePipe) id: string): Promise<RequeueResponse> {
    const requeued = await this.handoff.requeueDeadLetters(id).catch((err: unknown) => {
      throw operatorError(id, 'requeue', err);
    });
    return { requeued };
  }
}
