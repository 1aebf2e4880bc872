import { DynamicModule, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { AdmissionModule } from './admission/admission.module';
import { AuthModule } from './auth/auth.module';
import { Clock } from './common/clock';
import { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { DatabaseModule } from './database/database.module';
import { HealthModule } from './health/health.module';
import { WebModule } from './web/web.module';
import { PurchaseModule } from './purchase/purchase.module';
import { SalesModule } from './sales/sales.module';
import { ReservationsModule } from './reservations/reservations.module';
import { FcodesModule } from './fcodes/fcodes.module';
import { OrdersModule } from './orders/orders.module';
import { OrderLifecycleModule } from './lifecycle/order-lifecycle.module';
import { MetricsModule } from './metrics/metrics.module';
import { DeploymentModule } from './deployment/deployment.module';
import { RedisModule } from './redis/redis.module';
import { ClockModule } from './common/clock.module';
import { ReportsModule } from './reports/reports.module';
import { RebuildModule } from './rebuild/rebuild.module';
import { LiveModule } from './live/live.module';

export interface AppOverrides {
  /** Replaces the server clock (tests, rehearsals). */
  clock?: Clock;
}

const REQUEST_ID = /^[\w.:-]{1,100}$/;

/** 48 random bits naming this process in the ids it makes, so ids of different processes never meet. */
const PROCESS_TAG = randomBytes(6).toString('base64url');
let requestCount = 0;

/**
 * The request id: the caller's `x-request-id` when it is sane, else this process's tag and a counter
 * (`Zx3k9Qa_-2s`): unique, and cheaper than a random UUID on every request of a stampede.
 */
export function requestIdOf(request: IncomingMessage): string {
  const header = request.headers['x-request-id'];
  if (typeof header === 'string' && REQUEST_ID.test(header)) return header;
  requestCount += 1;
  return `${PROCESS_TAG}-${requestCount.toString(36)}`;
}

@Module({})
export class AppModule {
  static forRoot(config: AppConfig, overrides: AppOverrides = {}): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        ClockModule.forRoot(overrides.clock),
        LoggerModule.forRoot({
          pinoHttp: {
            level: config.logLevel,
            redact: ['req.headers.authorization', 'req.headers.cookie'],
          },
          // No per-request logger middleware: access lines come from a Fastify hook (common/access-log.ts),
          // and the middleware's AsyncLocalStorage made Node track every promise of the process.
          forRoutes: [],
        }),
        DatabaseModule,
        RedisModule,
        DeploymentModule,
        MetricsModule,
        AuthModule,
        HealthModule,
        SalesModule,
        ReservationsModule,
        PurchaseModule,
        AdmissionModule,
        FcodesModule,
        OrdersModule,
        OrderLifecycleModule,
        RebuildModule,
        ReportsModule,
        LiveModule,
        WebModule,
      ],
    };
  }
}
