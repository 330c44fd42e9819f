import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HandoffHealthModule } from './handoff-health.module';
import { HealthController } from './health.controller';

/** `/health`, `/health/live`, `/health/ready` for the relay app; host apps need not import it. */
@Module({
  imports: [TerminusModule, HandoffHealthModule],
  controllers: [HealthController],
})
export class HealthRoutesModule {}
