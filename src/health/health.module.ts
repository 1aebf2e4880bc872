import { Module } from '@nestjs/common';
import { OrderLifecycleModule } from '../orders/order-lifecycle.module';
import { OrderWriterModule } from '../orders/order-writer.module';
import { HealthController } from './health.controller';

@Module({ imports: [OrderWriterModule, OrderLifecycleModule], controllers: [HealthController] })
export class HealthModule {}
