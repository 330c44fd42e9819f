import {
  Controller,
  Get,
  Inject,
  NotFoundException,
  Param,
  Query,
  Req,
  Res,
  StreamableFile,
  type Type,
  UseGuards,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { HANDOFF_CONFIG } from '../../config/handoff-config.constants';
import type { HandoffConfig } from '../../config/handoff-config.interface';
import { AdminAccess, type AdminRequest } from '../admin/admin-access';
import { AdminAuthGuard } from '../admin/admin-auth.guard';
import { AdminController } from '../admin/admin.controller';
import { HandoffService } from '../replay/handoff.service';
import { renderConsolePage } from './assets/console-page';
import { type ConsoleAsset, loadConsoleAssets } from './console-assets';
import { CONSOLE_OPTIONS, type ResolvedConsoleOptions } from './console-options';
import { buildOverview, type ConsoleOverview, parseSince } from './console-overview';
import { ConsoleSampler } from './console-sampler.service';

type ConsoleRequest = AdminRequest & { url?: string; originalUrl?: string };

/** The page may load only its own files and talk only to its own origin. */
const PAGE_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

/**
 * The page, its files and its overview. Mounted at the host's path by `createConsoleControllers`
 * (subclassed, so several mounts do not share route metadata).
 */
@Controller()
export class ConsolePageController {
  private readonly assets = loadConsoleAssets();
  private readonly access: AdminAccess;

  constructor(
    private readonly handoff: HandoffService,
    private readonly sampler: ConsoleSampler,
    private readonly adapterHost: HttpAdapterHost,
    @Inject(HANDOFF_CONFIG) private readonly config: HandoffConfig,
    @Inject(CONSOLE_OPTIONS) private readonly options: ResolvedConsoleOptions,
  ) {
    this.access = new AdminAccess(config);
  }

  /** The HTML shell; it holds no data, so it loads without a token and asks for one. */
  @Get()
  page(@Req() req: ConsoleRequest, @Res({ passthrough: true }) res: unknown): StreamableFile {
    const html = renderConsolePage(this.baseOf(req), (name) => this.assets.get(name)!.etag);
    return this.send(req, res, Buffer.from(html), 'text/html; charset=utf-8', PAGE_HEADERS);
  }

  /** uPlot and the console's own script and style, from memory. */
  @Get('assets/:name')
  asset(
    @Param('name') name: string,
    @Req() req: ConsoleRequest,
    @Res({ passthrough: true }) res: unknown,
  ): StreamableFile {
    const found: ConsoleAsset | undefined = this.assets.get(name);
    if (!found) throw new NotFoundException({ error: 'no such console asset' });
    // URLs carry the content hash (?v=), so a file can be kept until the relay is upgraded.
    return this.send(req, res, found, found.type, {
      'cache-control': 'public, max-age=31536000, immutable',
      'x-content-type-options': 'nosniff',
      etag: found.etag,
    });
  }

  @Get('api/overview')
  @UseGuards(AdminAuthGuard)
  overview(@Req() req: ConsoleRequest, @Query('since') since: unknown): ConsoleOverview {
    return buildOverview(
      this.sampler,
      this.handoff.nodes(),
      this.config,
      { canAct: this.access.act(req).allowed, actionsNeedToken: this.access.actionsNeedToken },
      parseSince(since),
    );
  }

  /** Where this page was reached (any prefix of the host included), so its links follow it. */
  private baseOf(req: ConsoleRequest): string {
    const path = (req.originalUrl ?? req.url ?? '').split('?')[0].replace(/\/+$/, '');
    return /^(\/[A-Za-z0-9_.~-]+)+$/.test(path) ? path : `/${this.options.path}`;
  }

  private send(
    req: ConsoleRequest,
    res: unknown,
    file: Buffer | ConsoleAsset,
    type: string,
    headers: Record<string, string>,
  ): StreamableFile {
    const adapter = this.adapterHost.httpAdapter;
    for (const [name, value] of Object.entries(headers)) adapter.setHeader(res, name, value);
    let body = Buffer.isBuffer(file) ? file : file.body;
    if (!Buffer.isBuffer(file) && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))) {
      body = file.gzip;
      adapter.setHeader(res, 'content-encoding', 'gzip');
    }
    if (!Buffer.isBuffer(file)) adapter.setHeader(res, 'vary', 'accept-encoding');
    return new StreamableFile(body, { type, length: body.length });
  }
}

/**
 * The controllers of one console mount: the page at `path` and the operator routes (the same
 * AdminController, same guard) under `path/api/nodes`, each behind the host's extra guards.
 */
export function createConsoleControllers(options: ResolvedConsoleOptions): Type[] {
  class HandoffConsolePage extends ConsolePageController {}
  class HandoffConsoleActions extends AdminController {}
  Controller(options.path)(HandoffConsolePage);
  Controller(`${options.path}/api/nodes`)(HandoffConsoleActions);
  if (options.guards.length > 0) {
    UseGuards(...options.guards)(HandoffConsolePage);
    UseGuards(...options.guards)(HandoffConsoleActions);
  }
  return [HandoffConsolePage, HandoffConsoleActions];
}
