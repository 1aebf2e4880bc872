import { Controller, Get, Inject, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import type Redis from 'ioredis';
import { Public } from '../auth/auth.decorators';
import { DatabaseService } from '../database/database.service';
import { REDIS_CLIENT } from '../redis/redis.constants';

type Part = 'up' | 'down';

@ApiTags('operations')
@Controller('health')
export class HealthController {
  constructor(
    @Inject(REDIS_CLIENT) private readonly redis: Redis,
    private readonly database: DatabaseService,
  ) {}

  @Public()
  @Get()
  @ApiOperation({ summary: 'Liveness of Redis and the database: 200 when both are up, 503 naming the failing part' })
  async check(@Res({ passthrough: true }) reply: FastifyReply): Promise<{ status: 'ok' | 'error'; redis: Part; database: Part }> {
    const [redis, database] = await Promise.all([
      this.probe(() => this.redis.ping()),
      this.probe(() => this.database.ping()),
    ]);
    const healthy = redis === 'up' && database === 'up';
    void reply.status(healthy ? 200 : 503);
    return { status: healthy ? 'ok' : 'error', redis, database };
  }

  private async probe(check: () => Promise<unknown>): Promise<Part> {
    try {
      await Promise.race([check(), new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 2000).unref())]);
      return 'up';
    } catch {
      return 'down';
    }
  }
}
