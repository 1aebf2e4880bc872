import { Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { RedisDurability } from './durability';
import { createHotPathClient, createTopologySubscriber } from './redis-client.factory';
import { RedisKeys } from './redis-keys';
import type { RedisClient } from './redis-topology';
import { REDIS_CLIENT, REDIS_SUBSCRIBER } from './redis.constants';

@Global()
@Module({
  providers: [
    { provide: REDIS_CLIENT, inject: [APP_CONFIG], useFactory: (config: AppConfig) => createHotPathClient(config, 'sellout') },
    { provide: REDIS_SUBSCRIBER, inject: [APP_CONFIG], useFactory: (config: AppConfig) => createTopologySubscriber(config, 'sellout-sub') },
    RedisDurability,
    { provide: RedisKeys, inject: [APP_CONFIG], useFactory: (config: AppConfig) => new RedisKeys(config.redisKeyPrefix) },
  ],
  exports: [REDIS_CLIENT, REDIS_SUBSCRIBER, RedisDurability, RedisKeys],
})
export class RedisModule implements OnApplicationShutdown {
  constructor(
    @Inject(REDIS_CLIENT) private readonly client: RedisClient,
    @Inject(REDIS_SUBSCRIBER) private readonly subscriber: RedisClient,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    await Promise.allSettled([this.client.quit(), this.subscriber.quit()]);
  }
}
