import { HttpException } from '@nestjs/common';

/**
 * An answer in InfluxDB 1.x's error shape, `{"error": "..."}`, which the `influx` CLI and client
 * libraries read. Thrown from handlers and guards; Nest sends the object as the body.
 */
export class InfluxHttpError extends HttpException {
  constructor(status: number, message: string) {
    super({ error: message }, status);
  }
}
