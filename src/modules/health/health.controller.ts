import { BeforeApplicationShutdown, Controller, Get } from '@nestjs/common';
import {
  HealthCheck,
  HealthCheckResult,
  HealthCheckService,
  HealthIndicatorService,
} from '@nestjs/terminus';
import { HandoffHealthIndicator } from './handoff.health';

/**
 * The relay app's health routes. A host app writes its own controller around
 * HandoffHealthIndicator instead; this one lives in HandoffHealthControllerModule so importing
 * the indicator never mounts routes in someone else's app.
 */
@Controller('health')
export class HealthController implements BeforeApplicationShutdown {
  private shuttingDown = false;

  constructor(
    private readonly health: HealthCheckService,
    private readonly handoff: HandoffHealthIndicator,
    private readonly healthIndicatorService: HealthIndicatorService,
  ) {}

  /**
   * Everything, with details: each node's backlog and state, the data directory's disk, and
   * with HH_STORE=jetstream the NATS connection.
   */
  @Get()
  @HealthCheck()
  check(): Promise<HealthCheckResult> {
    return this.health.check([
      () => this.liveness(),
      () => this.handoff.isHealthy('handoff'),
      () => this.handoff.isDiskHealthy('disk'),
      ...(this.handoff.usesNats() ? [() => this.handoff.isNatsHealthy('nats')] : []),
    ]);
  }

  /** The process answers: up until shutdown begins, so an orchestrator can tell hung from busy. */
  @Get('live')
  @HealthCheck()
  live(): Promise<HealthCheckResult> {
    return this.health.check([() => this.liveness()]);
  }

  /**
   * Queues open and disk space left: whether a load balancer should send writes here. NATS
   * being down does not make a relay unready: live writes to healthy nodes still go through,
   * and every relay shares the same NATS, so taking them all out would stop those too.
   */
  @Get('ready')
  @HealthCheck()
  ready(): Promise<HealthCheckResult> {
    return this.health.check([
      () => this.liveness(),
      () => this.handoff.isReady('handoff'),
      () => this.handoff.isDiskHealthy('disk'),
    ]);
  }

  beforeApplicationShutdown(): void {
    this.shuttingDown = true;
  }

  private liveness() {
    const check = this.healthIndicatorService.check('process');
    return this.shuttingDown
      ? check.down({ message: 'shutting down', pid: process.pid })
      : check.up({ pid: process.pid });
  }
}
