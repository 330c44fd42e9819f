import { Module } from '@nestjs/common';
import { AdminController } from './admin.controller';

/**
 * The operator routes under /hh for the relay app. Needs HandoffService and HANDOFF_CONFIG
 * visible where it is imported (the guard reads the tokens from the config).
 */
@Module({
  controllers: [AdminController],
})
export class AdminModule {}
