import { type ArgumentsHost, Catch, type ExceptionFilter, Injectable } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { UnknownNodeError } from '../replay/errors';

/**
 * A node removed (its emptied directory deleted by the age purge) after KnownNodePipe let its
 * id through: the route answers 404 like any unknown node, not 500.
 */
@Catch(UnknownNodeError)
@Injectable()
export class UnknownNodeFilter implements ExceptionFilter<UnknownNodeError> {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(err: UnknownNodeError, host: ArgumentsHost): void {
    const response: unknown = host.switchToHttp().getResponse();
    this.adapterHost.httpAdapter.reply(
      response,
      { error: `unknown node ${JSON.stringify(err.nodeId)}` },
      404,
    );
  }
}
