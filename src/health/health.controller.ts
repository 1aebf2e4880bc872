import { Controller, Get, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Public } from '../auth/auth.decorators';
import { DatabaseService } from '../database/database.service';
import { ExpirySweeper } from '../lifecycle/expiry-sweeper';
import { OrderWriterService } from '../order-writer/order-writer.service';
import { HealthGateway } from './health.gateway';

type Part = 'up' | 'down';

@ApiTags('operations')
@Controller('health')
export class HealthController {
  constructor(
    private readonly gateway: HealthGateway,
    private readonly database: DatabaseService,
    private readonly writer: OrderWriterService,
    private readonly sweeper: ExpirySweeper,
  ) {}

  @Public()
  @Get()
  @ApiOperation({
    summary: 'Liveness of Redis, the database and the order pipeline: 200 when all are up, 503 naming the failing part',
    description: "orderPipeline is down while this process's order writer or expiry sweeper fails on every attempt.",
  })
  async check(@Res({ passthrough: true }) reply: FastifyReply): Promise<{ status: 'ok' | 'error'; redis: Part; database: Part; orderPipeline: Part }> {
    const [redis, database] = await Promise.all([
      this.probe(() => this.gateway.ping()),
      this.probe(() => this.database.ping()),
    ]);
    const orderPipeline: Part = this.writer.isFailing || this.sweeper.isFailing ? 'down' : 'up';
    const healthy = redis === 'up' && database === 'up' && orderPipeline === 'up';
    void reply.status(healthy ? 200 : 503);
    return { status: healthy ? 'ok' : 'error', redis, database, orderPipeline };
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
