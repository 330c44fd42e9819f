export { HandoffConsoleModule } from './handoff-console.module';
export type { HandoffConsoleOptions } from './console-options';
export type { ConsoleNode, ConsoleOverview } from './console-overview';
export type { NodeSample } from './console-history';
