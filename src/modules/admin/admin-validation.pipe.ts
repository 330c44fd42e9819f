import { BadRequestException, ValidationError, ValidationPipe } from '@nestjs/common';

function messagesOf(errors: ValidationError[]): string[] {
  return errors.flatMap((e) => Object.values(e.constraints ?? {}));
}

/**
 * Query DTOs of the operator routes. No implicit conversion (a DTO converts what it means to);
 * unknown parameters are stripped rather than refused, because InfluxDB clients put the
 * credentials in `u`/`p`. A refusal has the same `{ error }` shape as the other admin errors.
 */
export function adminValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    transform: true,
    whitelist: true,
    transformOptions: { enableImplicitConversion: false },
    exceptionFactory: (errors) => new BadRequestException({ error: messagesOf(errors).join('; ') }),
  });
}
