export * from './admin.controller';
export { AdminModule } from './admin.module';
export { KnownNodePipe } from './known-node.pipe';
export { AdminAccess, isLoopback, type AccessDecision } from './admin-access';
export { AdminAction, AdminAuthGuard } from './admin-auth.guard';
