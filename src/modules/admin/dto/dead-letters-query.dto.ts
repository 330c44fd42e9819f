import { Transform } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';

export const MAX_DEAD_LETTERS_LIMIT = 10_000;

/** `GET /hh/nodes/:id/dead-letters?limit=N`. */
export class DeadLettersQueryDto {
  /**
   * Converted here and only from plain digits: implicit conversion would also accept `1e3`,
   * ` 7` or `0x10`, and turn `abc` into NaN instead of a clear refusal.
   */
  @IsOptional()
  @Transform(({ value }) =>
    typeof value === 'string' && /^\d{1,6}$/.test(value) ? Number(value) : value,
  )
  @IsInt({ message: 'limit must be a whole number' })
  @Min(1)
  @Max(MAX_DEAD_LETTERS_LIMIT)
  limit?: number;
}
