import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HandoffHealthIndicator } from './handoff.health';

/**
 * The indicator for host apps: import this module and call
 * `indicator.isHealthy('handoff')` from your own health controller. Mounts no routes. Needs
 * HandoffService and HANDOFF_CONFIG visible where it is imported; HintedHandoffModule builds
 * it with both and re-exports it, so a host that imports that module has the indicator.
 */
@Module({
  imports: [TerminusModule],
  providers: [HandoffHealthIndicator],
  exports: [HandoffHealthIndicator],
})
export class HandoffHealthModule {}
