import { Module } from '@nestjs/common';
import { OrderLifecycleModule } from '../lifecycle/order-lifecycle.module';
import { OrderWriterModule } from '../order-writer/order-writer.module';
import { HealthController } from './health.controller';
import { HealthGateway } from './health.gateway';

@Module({ imports: [OrderWriterModule, OrderLifecycleModule], controllers: [HealthController], providers: [HealthGateway] })
export class HealthModule {}
