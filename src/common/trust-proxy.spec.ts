import Fastify from 'fastify';
import { fastifyTrustProxy } from './trust-proxy';

/** The address Fastify settles on for a request that passed through `forwardedFor`, from 10.0.0.9. */
async function clientAddress(trustProxy: boolean | number | string, forwardedFor: string): Promise<string> {
  const app = Fastify({ trustProxy: fastifyTrustProxy(trustProxy) });
  app.get('/ip', (request) => ({ ip: request.ip }));
  const response = await app.inject({ method: 'GET', url: '/ip', remoteAddress: '10.0.0.9', headers: { 'x-forwarded-for': forwardedFor } });
  await app.close();
  return (response.json() as { ip: string }).ip;
}

describe('fastifyTrustProxy', () => {
  const chain = '203.0.113.7, 198.51.100.2';

  it('trusts exactly as many hops as a hop count says', async () => {
    expect(await clientAddress(1, chain)).toBe('198.51.100.2');
    expect(await clientAddress(2, chain)).toBe('203.0.113.7');
  });

  it('trusts no forwarding header with 0 hops or false, and every one with true', async () => {
    expect(await clientAddress(0, chain)).toBe('10.0.0.9');
    expect(await clientAddress(false, chain)).toBe('10.0.0.9');
    expect(await clientAddress(true, chain)).toBe('203.0.113.7');
  });

  it('trusts listed proxies only', async () => {
    expect(await clientAddress('10.0.0.0/8', chain)).toBe('198.51.100.2');
    expect(await clientAddress('192.0.2.1', chain)).toBe('10.0.0.9');
  });
});
