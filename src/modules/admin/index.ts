export * from './admin.controller';
export { AdminModule } from './admin.module';
export { KnownNodePipe } from './known-node.pipe';
