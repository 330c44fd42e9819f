export { HandoffHealthIndicator, NodeHealthDetails } from './handoff.health';
export { HandoffHealthModule } from './handoff-health.module';
export { HealthController } from './health.controller';
export { HealthRoutesModule } from './health-routes.module';
