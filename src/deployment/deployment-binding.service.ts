import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { isInfrastructureError } from '../common/errors/infrastructure-error';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { DeploymentGateway } from './deployment.gateway';
import { DeploymentRepository } from './deployment.repository';

/** This service's database is not the one its Redis key prefix is bound to. */
export class DeploymentMismatchError extends Error {
  constructor(prefix: string, boundTo: string, databaseId: string) {
    super(
      `REDIS_KEY_PREFIX "${prefix}" is bound in this Redis to another database (deployment ${boundTo}), but DATABASE_URL points to deployment ${databaseId}. ` +
        'Two deployments must never share a key prefix: give this one its own REDIS_KEY_PREFIX (or its own Redis), or set DATABASE_URL to the database this prefix belongs to.',
    );
    this.name = 'DeploymentMismatchError';
  }
}

/**
 * One Redis keyspace belongs to one deployment. At boot the service binds its key prefix to its database
 * (the database's id, from its `deployment` table, kept at `<prefix>:deployment`) and refuses to start
 * when the prefix is bound to another database: two deployments sharing a prefix would each let the other's
 * order writer store its orders, and a later rebuild would sell those units again.
 */
@Injectable()
export class DeploymentBinding implements OnModuleInit {
  private readonly logger = new Logger(DeploymentBinding.name);
  private id?: string;

  constructor(
    private readonly repository: DeploymentRepository,
    private readonly gateway: DeploymentGateway,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    this.id = await this.repository.databaseId();
    try {
      await this.bind();
    } catch (error) {
      if (!isInfrastructureError(error)) throw error;
      // Boot anyway (health reports the outage); the rebuild watcher binds once Redis answers.
      this.logger.error({ err: error }, 'Could not bind the Redis key prefix to the database at boot; Redis is unreachable');
    }
  }

  /** The id of this service's database. */
  get databaseId(): string {
    if (this.id === undefined) throw new Error('DeploymentBinding used before boot');
    return this.id;
  }

  get prefix(): string {
    return this.config.redisKeyPrefix;
  }

  /** Binds the prefix to this database if unbound; throws DeploymentMismatchError when bound to another. */
  async bind(): Promise<void> {
    const boundTo = await this.gateway.bind(this.databaseId);
    if (boundTo !== this.databaseId) throw new DeploymentMismatchError(this.prefix, boundTo ?? '(none)', this.databaseId);
  }
}
