import { MigrationInterface, QueryRunner, Table, TableColumn } from 'typeorm';

/*
 * A lottery's entries and its admission rounds, kept in the database so that neither depends on Redis
 * keeping its memory: the draw ranks the entries read from here, and the rebuild writes a drawn lottery's
 * ranking and rounds back to Redis from here. `lottery_drawn_at` is set when a draw starts, and from then
 * on no entry is added (the draw ranks a fixed set); `lottery_entry_count`, the entries the draw ranked,
 * once it is complete.
 */
export class LotteryEntries1764700000000 implements MigrationInterface {
  name = 'LotteryEntries1764700000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'lottery_entries',
        columns: [
          { name: 'sale_id', type: 'varchar', length: '64', isPrimary: true },
          { name: 'user_id', type: 'varchar', length: '64', isPrimary: true },
          { name: 'entered_at', type: 'bigint' },
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'lottery_rounds',
        columns: [
          { name: 'sale_id', type: 'varchar', length: '64', isPrimary: true },
          { name: 'round', type: 'integer', isPrimary: true },
          { name: 'admitted_up_to', type: 'integer' },
          { name: 'buy_by', type: 'bigint' },
        ],
      }),
    );
    await queryRunner.addColumn('sales', new TableColumn({ name: 'lottery_entry_count', type: 'integer', isNullable: true }));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('sales', 'lottery_entry_count');
    await queryRunner.dropTable('lottery_rounds');
    await queryRunner.dropTable('lottery_entries');
  }
}
