import { randomBytes } from 'node:crypto';
import { MigrationInterface, QueryRunner, Table } from 'typeorm';

/*
 * Gives the database an identity of its own: one row with a random id, made once, when the table is
 * made. At boot the service binds its Redis key prefix to this id (`<prefix>:deployment`), so that a
 * second deployment with another database cannot share the prefix, and its order writer cannot store
 * another deployment's orders.
 */
export class DeploymentIdentity1764380000000 implements MigrationInterface {
  name = 'DeploymentIdentity1764380000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'deployment',
        columns: [
          { name: 'id', type: 'varchar', length: '64', isPrimary: true },
          { name: 'created_at', type: 'bigint' },
        ],
      }),
    );
    // Both values are made here (hex and digits), so they are written as literals: the one statement
    // then reads the same on PostgreSQL and SQLite, whose parameter markers differ.
    await queryRunner.query(`INSERT INTO deployment (id, created_at) VALUES ('db_${randomBytes(12).toString('hex')}', ${Date.now()})`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('deployment');
  }
}
