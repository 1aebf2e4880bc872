/** Fastify's `trustProxy` option, as it accepts it: everything, nothing, addresses/CIDRs, or a predicate. */
export type FastifyTrustProxy = boolean | string | ((address: string, hop: number) => boolean);

/**
 * Turns `TRUST_PROXY` into Fastify's option. A hop count is passed as a predicate that trusts the
 * nearest `hops` addresses: Fastify 5.12 and later accept a bare number but then trust no one, so
 * `TRUST_PROXY=1` behind a load balancer would quietly hand every buyer the balancer's address (and one
 * shared F-code brake).
 */
export function fastifyTrustProxy(value: boolean | number | string): FastifyTrustProxy {
  if (typeof value !== 'number') return value;
  return (_address, hop) => hop < value;
}
