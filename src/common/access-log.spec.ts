import type { LoggerService } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AccessLog } from './access-log';

function capture(): { logger: LoggerService; lines: { level: string; line: unknown; message: string }[] } {
  const lines: { level: string; line: unknown; message: string }[] = [];
  const record = (level: string) => (line: unknown, message: string) => lines.push({ level, line, message });
  return { lines, logger: { log: record('info'), error: record('error'), warn: record('warn') } };
}

const request = (method: string, url: string) => ({ id: 'req-1', method, url }) as FastifyRequest;
const reply = (statusCode: number) => ({ statusCode, elapsedTime: 1.234 }) as FastifyReply;

describe('AccessLog', () => {
  it('writes one line per request with its id, route, status and time', () => {
    const { logger, lines } = capture();
    new AccessLog(logger, 'info').record(request('POST', '/api/admin/sales'), reply(201), '/api/admin/sales');
    expect(lines).toEqual([
      {
        level: 'info',
        message: 'request completed',
        line: { requestId: 'req-1', req: { method: 'POST', url: '/api/admin/sales', route: '/api/admin/sales' }, res: { statusCode: 201 }, responseTimeMs: 1.2 },
      },
    ]);
  });

  it('logs a 5xx at error level', () => {
    const { logger, lines } = capture();
    new AccessLog(logger, 'debug').record(request('GET', '/health'), reply(503), '/health');
    expect(lines.map(({ level, message }) => [level, message])).toEqual([['error', 'request errored']]);
  });

  it('leaves out the two routes a crowd hammers, and everything below info', () => {
    const { logger, lines } = capture();
    const info = new AccessLog(logger, 'info');
    info.record(request('POST', '/api/sales/s_1/purchase'), reply(409), '/api/sales/:saleId/purchase');
    info.record(request('GET', '/api/sales/s_1'), reply(200), '/api/sales/:saleId');
    new AccessLog(logger, 'warn').record(request('POST', '/api/admin/sales'), reply(500), '/api/admin/sales');
    expect(lines).toEqual([]);
    info.record(request('PATCH', '/api/sales/s_1'), reply(404), '/api/sales/:saleId');
    expect(lines).toHaveLength(1);
  });
});
