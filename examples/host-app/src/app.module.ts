import { Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { HandoffExceptionFilter, HintedHandoffModule } from 'nestjs-hinted-handoff';
import { HealthController } from './health.controller';
import { ItemsController } from './items.controller';

@Module({
  imports: [
    // Listed first: configured by the HH_* variables (HH_DATA_DIR, HH_NODES, …).
    HintedHandoffModule.forRoot(),
    TerminusModule,
  ],
  controllers: [HealthController, ItemsController],
  // The library's errors answer 404 / 422 / 502 / 503 instead of 500.
  providers: [{ provide: APP_FILTER, useClass: HandoffExceptionFilter }],
})
export class AppModule {}
