import { DynamicModule, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { INestApplicationContext } from '@nestjs/common';
import { Logger, LoggerModule } from 'nestjs-pino';
import { Clock } from '../common/clock';
import { ClockModule } from '../common/clock.module';
import { AppConfig } from '../config/app-config';
import { ConfigModule } from '../config/config.module';
import { DatabaseModule } from '../database/database.module';
import { MetricsModule } from '../metrics/metrics.module';
import { DeploymentModule } from '../deployment/deployment.module';
import { RedisModule } from '../redis/redis.module';
import { OrderWriterModule } from './order-writer.module';

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
 * Boots a standalone order writer (no HTTP). The writer runs whatever ORDER_WRITER_ENABLED says: that
 * variable decides whether the *service* runs one, and a worker exists to run one.
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
