import { DynamicModule, Module } from '@nestjs/common';
import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Logger, LoggerModule } from 'nestjs-pino';
import { Clock } from '../common/clock';
import { ClockModule } from '../common/clock.module';
import { AppConfig } from '../config/app-config';
import { ConfigModule } from '../config/config.module';
import { DatabaseModule } from '../database/database.module';
import { DeploymentModule } from '../deployment/deployment.module';
import { MetricsModule } from '../metrics/metrics.module';
import { OrdersStoreModule } from '../orders/orders-store.module';
import { RedisModule } from '../redis/redis.module';
import { SalesStoreModule } from '../sales/sales-store.module';
import { OrderWriterGateway } from './order-writer.gateway';
import { OrderWriterService } from './order-writer.service';

/** The order writer alone: what both the service and the `start:worker` process need to persist orders. */
@Module({
  // The sales table tells the writer which sales are this deployment's (see OrderWriterService.process).
  imports: [OrdersStoreModule, SalesStoreModule],
  providers: [OrderWriterService, OrderWriterGateway],
  exports: [OrderWriterService, OrderWriterGateway],
})
export class OrderWriterModule {}

/** Only what the order writer needs: configuration, clock, logs, the database, Redis and metrics. */
@Module({})
export class OrderWriterWorkerModule {
  static forRoot(config: AppConfig, clock?: Clock): DynamicModule {
    return {
      module: OrderWriterWorkerModule,
      imports: [
        ConfigModule.forRoot(config),
        ClockModule.forRoot(clock),
        LoggerModule.forRoot({ pinoHttp: { level: config.logLevel } }),
        DatabaseModule,
        RedisModule,
        DeploymentModule,
        MetricsModule,
        OrderWriterModule,
      ],
    };
  }
}

/**
 * Boots a standalone order writer (no HTTP): `npm run start:worker` and the writer's thread. The writer
 * runs whatever ORDER_WRITER_ENABLED says: that variable decides whether the *service* runs one, and a
 * worker exists to run one.
 */
export async function createOrderWriterWorker(config: AppConfig, clock?: Clock): Promise<INestApplicationContext> {
  // A standalone writer runs its loop itself, whatever ORDER_WRITER_THREAD says: that decides where the
  // *service* runs its writer.
  const workerConfig: AppConfig = { ...config, orderWriter: { ...config.orderWriter, enabled: true, thread: false } };
  const app = await NestFactory.createApplicationContext(OrderWriterWorkerModule.forRoot(workerConfig, clock), { bufferLogs: true });
  app.useLogger(app.get(Logger));
  app.enableShutdownHooks();
  return app;
}
