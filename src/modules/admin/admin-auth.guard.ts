import {
  type CanActivate,
  type ExecutionContext,
  HttpException,
  Inject,
  Injectable,
  SetMetadata,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { HANDOFF_CONFIG } from '../../config/handoff-config.constants';
import type { HandoffConfig } from '../../config/handoff-config.interface';
import { AdminAccess, type AdminRequest } from './admin-access';

const ADMIN_ACTION = 'hh:admin-action';

/** Marks a route that changes state: it needs the admin token (or a loopback client). */
export const AdminAction = (): MethodDecorator => SetMetadata(ADMIN_ACTION, true);

/**
 * The operator routes' guard: `AdminAccess.act` for routes marked `@AdminAction()`, `read` for
 * the rest. A refusal answers `{ "error": … }`, the shape of every other relay error.
 */
@Injectable()
export class AdminAuthGuard implements CanActivate {
  private readonly access: AdminAccess;

  constructor(
    @Inject(HANDOFF_CONFIG) config: HandoffConfig,
    private readonly reflector: Reflector,
  ) {
    this.access = new AdminAccess(config);
  }

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<AdminRequest>();
    const isAction = this.reflector.get<boolean | undefined>(ADMIN_ACTION, context.getHandler());
    const decision = isAction ? this.access.act(request) : this.access.read(request);
    if (!decision.allowed) throw new HttpException({ error: decision.error }, decision.status);
    return true;
  }
}
