import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  HttpStatus,
  Injectable,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { STATUS_CODES } from 'node:http';
import {
  QueueFailedError,
  QueueFullError,
  QueueLockedError,
  QueueNotOpenError,
  QueueOpenError,
} from '../queue/errors';
import { NatsUnavailableError } from '../jetstream/errors';
import {
  DuplicateNodeError,
  LeaseNotHeldError,
  InvalidNodeIdError,
  PermanentWriteError,
  ReplayClosedError,
  TransientWriteError,
  UnknownNodeError,
} from '../replay/errors';
import { HANDOFF_RETRY_AFTER_SECONDS, handoffErrorStatus } from './handoff-error-status';

/** The body of a mapped error: Nest's usual shape plus the library's stable code. */
export interface HandoffErrorBody {
  statusCode: number;
  error: string;
  code: string;
  message: string;
}

/**
 * Answers the library's errors with the status `handoffErrorStatus` gives (404 unknown node,
 * 422/502 refused write, 503 + Retry-After when storage cannot take it now) instead of Nest's
 * 500. Register it with `app.useGlobalFilters(app.get(HandoffExceptionFilter))` or as an
 * `APP_FILTER` provider; it works on Express and Fastify (it answers through the HTTP adapter).
 * Only the listed classes are caught, so the host's own errors keep their handling.
 */
@Catch(
  PermanentWriteError,
  TransientWriteError,
  UnknownNodeError,
  InvalidNodeIdError,
  DuplicateNodeError,
  ReplayClosedError,
  QueueFullError,
  QueueFailedError,
  QueueLockedError,
  QueueNotOpenError,
  QueueOpenError,
  NatsUnavailableError,
  LeaseNotHeldError,
)
@Injectable()
export class HandoffExceptionFilter implements ExceptionFilter {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(err: Error & { code?: string }, host: ArgumentsHost): void {
    // Other transports (RPC, websockets) keep Nest's own handling.
    if (host.getType() !== 'http') throw err;
    const status = handoffErrorStatus(err) ?? HttpStatus.INTERNAL_SERVER_ERROR;
    const { httpAdapter } = this.adapterHost;
    const response: unknown = host.switchToHttp().getResponse();
    if (status === HttpStatus.SERVICE_UNAVAILABLE) {
      httpAdapter.setHeader(response, 'Retry-After', String(HANDOFF_RETRY_AFTER_SECONDS));
    }
    const body: HandoffErrorBody = {
      statusCode: status,
      error: STATUS_CODES[status] ?? 'Error',
      code: err.code ?? 'ERR_HANDOFF',
      // The library's messages name nodes and limits, never payload bytes.
      message: err.message,
    };
    httpAdapter.reply(response, body, status);
  }
}
