import { MigrationInterface, QueryRunner, TableColumn } from 'typeorm';

/*
 * How buyers are let in to a sale: `open` (every eligible buyer may buy at once), `queue` (a waiting room
 * that admits buyers at a set rate) or `lottery` (a draw among entries). Times are epoch milliseconds; the
 * two nullable times follow the sale's own times while unset (`queue_opens_at` the reservation close,
 * `lottery_closes_at` the start). The lottery's seed stays secret until the draw; its SHA-256 is public
 * from the commit on. Existing sales become `open`, which is what they were.
 */
export class SaleAdmission1764600000000 implements MigrationInterface {
  name = 'SaleAdmission1764600000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumns('sales', [
      new TableColumn({ name: 'admission', type: 'varchar', length: '16', default: "'open'" }),
      new TableColumn({ name: 'queue_opens_at', type: 'bigint', isNullable: true }),
      new TableColumn({ name: 'admission_rate_per_second', type: 'integer', default: 1000 }),
      new TableColumn({ name: 'admission_ttl_seconds', type: 'integer', default: 120 }),
      new TableColumn({ name: 'lottery_closes_at', type: 'bigint', isNullable: true }),
      new TableColumn({ name: 'purchase_window_seconds', type: 'integer', default: 3600 }),
      new TableColumn({ name: 'lottery_seed', type: 'varchar', length: '64', isNullable: true }),
      new TableColumn({ name: 'lottery_seed_hash', type: 'varchar', length: '64', isNullable: true }),
      new TableColumn({ name: 'lottery_drawn_at', type: 'bigint', isNullable: true }),
    ]);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const column of ['lottery_drawn_at', 'lottery_seed_hash', 'lottery_seed', 'purchase_window_seconds', 'lottery_closes_at', 'admission_ttl_seconds', 'admission_rate_per_second', 'queue_opens_at', 'admission']) {
      await queryRunner.dropColumn('sales', column);
    }
  }
}
