import { Global, Module } from '@nestjs/common';
import { DeploymentBinding } from './deployment-binding.service';
import { DeploymentGateway } from './deployment.gateway';
import { DeploymentRepository } from './deployment.repository';

/** The binding of this deployment's Redis key prefix to its database (see DeploymentBinding). */
@Global()
@Module({
  providers: [DeploymentRepository, DeploymentGateway, DeploymentBinding],
  exports: [DeploymentGateway, DeploymentBinding],
})
export class DeploymentModule {}
