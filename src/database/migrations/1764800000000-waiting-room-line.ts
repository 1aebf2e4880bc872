import { MigrationInterface, QueryRunner, Table, TableColumn } from 'typeorm';

/*
 * A waiting room's line, kept in the database so that a Redis that lost its memory gets it back: each
 * buyer's place (the random score of a join before the start, 1 + arrival number after) and, once they
 * saw their admission, when (their admission token runs from it); and on the sale, how many places have
 * been admitted from the front.
 */
export class WaitingRoomLine1764800000000 implements MigrationInterface {
  name = 'WaitingRoomLine1764800000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'queue_entries',
        columns: [
          { name: 'sale_id', type: 'varchar', length: '64', isPrimary: true },
          { name: 'user_id', type: 'varchar', length: '64', isPrimary: true },
          { name: 'place', type: 'double precision' },
          { name: 'admitted_at', type: 'bigint', isNullable: true },
        ],
      }),
    );
    await queryRunner.addColumn('sales', new TableColumn({ name: 'queue_admitted', type: 'integer', default: 0 }));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('sales', 'queue_admitted');
    await queryRunner.dropTable('queue_entries');
  }
}
