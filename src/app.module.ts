import { DynamicModule, Module, RequestMethod } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
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
import { OrderLifecycleModule } from './orders/order-lifecycle.module';
import { MetricsModule } from './metrics/metrics.module';
import { RedisModule } from './redis/redis.module';
import { ClockModule } from './common/clock.module';

export interface AppOverrides {
  /** Replaces the server clock (tests, rehearsals). */
  clock?: Clock;
}

const REQUEST_ID = /^[\w.:-]{1,100}$/;

/** The request id: the caller's `x-request-id` when it is sane, a new UUID otherwise. */
export function requestIdOf(request: IncomingMessage): string {
  const header = request.headers['x-request-id'];
  if (typeof header === 'string' && REQUEST_ID.test(header)) return header;
  const id = randomUUID();
  // Written back so that Fastify and the pino-http logger agree on the id.
  request.headers['x-request-id'] = id;
  return id;
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
            genReqId: (request) => requestIdOf(request),
            customProps: (request) => ({ requestId: request.id }),
            redact: ['req.headers.authorization', 'req.headers.cookie'],
            quietReqLogger: true,
          },
          // The two routes a flash-sale crowd hammers get no per-request logger: pino-http builds a child
          // logger with redaction for every request even when the level drops the line, which cost ~9% of
          // the purchase path's CPU in the benchmark. Their outcomes are in the metrics; their errors are
          // still logged by the exception filter.
          exclude: [
            { method: RequestMethod.POST, path: 'api/sales/:saleId/purchase' },
            { method: RequestMethod.GET, path: 'api/sales/:saleId' },
          ],
        }),
        DatabaseModule,
        RedisModule,
        MetricsModule,
        AuthModule,
        HealthModule,
        SalesModule,
        ReservationsModule,
        PurchaseModule,
        FcodesModule,
        OrdersModule,
        OrderLifecycleModule,
        WebModule,
      ],
    };
  }
}
