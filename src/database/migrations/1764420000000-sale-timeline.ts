import { MigrationInterface, QueryRunner, Table } from 'typeorm';

/*
 * The sale timeline: purchase attempts per sale, second and outcome, added to by every process, and the
 * units sold sampled alongside. Kept after the sale ends, for the sell-out curve and the outcome mix.
 */
export class SaleTimeline1764420000000 implements MigrationInterface {
  name = 'SaleTimeline1764420000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'sale_timeline',
        columns: [
          { name: 'sale_id', type: 'varchar', length: '64', isPrimary: true },
          { name: 'at_second', type: 'bigint', isPrimary: true },
          { name: 'outcome', type: 'varchar', length: '32', isPrimary: true },
          { name: 'attempts', type: 'integer' },
          { name: 'units_sold', type: 'integer', isNullable: true },
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('sale_timeline');
  }
}
