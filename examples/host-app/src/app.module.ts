import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HintedHandoffModule } from 'nestjs-hinted-handoff';
import { HealthController } from './health.controller';
import { ItemsController } from './items.controller';

@Module({
  imports: [
    // Listed first: configured by the HH_* variables (HH_DATA_DIR, HH_NODES, …).
    HintedHandoffModule.forRoot(),
    TerminusModule,
  ],
  controllers: [HealthController, ItemsController],
})
export class AppModule {}
