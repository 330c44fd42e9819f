import { Equals } from 'class-validator';

/** `POST /hh/nodes/:id/purge` drops a whole backlog, so it must be asked for explicitly. */
export class PurgeQueryDto {
  @Equals('true', { message: 'purge drops the whole backlog: add ?confirm=true' })
  confirm!: string;
}
