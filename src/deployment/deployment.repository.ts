import { Injectable } from '@nestjs/common';
import { DatabaseService } from '../database/database.service';
import { DeploymentEntity } from './deployment.entity';

/** The `deployment` table: the database's identity, made by its migration. */
@Injectable()
export class DeploymentRepository {
  constructor(private readonly database: DatabaseService) {}

  async databaseId(): Promise<string> {
    const [row] = await this.database.manager.find(DeploymentEntity, { order: { createdAt: 'ASC', id: 'ASC' }, take: 1 });
    if (!row) throw new Error('The database has no deployment identity (table "deployment" is empty); run the migrations on a database of this service');
    return row.id;
  }
}
