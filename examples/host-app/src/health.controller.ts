import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { HandoffHealthIndicator } from 'nestjs-hinted-handoff';

@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly handoff: HandoffHealthIndicator,
  ) {}

  /** Each node's backlog and state, and the disk of the hand-off data directory. */
  @Get()
  @HealthCheck()
  check() {
    return this.health.check([
      () => this.handoff.isHealthy('handoff'),
      () => this.handoff.isDiskHealthy('handoff_disk'),
    ]);
  }
}
