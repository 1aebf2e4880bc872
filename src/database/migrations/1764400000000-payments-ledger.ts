import { MigrationInterface, QueryRunner, Table, TableIndex } from 'typeorm';

/*
 * The payments ledger: every charge and refund the payment provider answered, so that the end-of-sale
 * report can reconcile money taken and given back with the orders. Times are epoch milliseconds.
 */
export class PaymentsLedger1764400000000 implements MigrationInterface {
  name = 'PaymentsLedger1764400000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'payments',
        columns: [
          { name: 'id', type: 'varchar', length: '40', isPrimary: true },
          { name: 'order_id', type: 'varchar', length: '100' },
          { name: 'sale_id', type: 'varchar', length: '64', isNullable: true },
          { name: 'kind', type: 'varchar', length: '8' },
          { name: 'outcome', type: 'varchar', length: '10' },
          { name: 'amount_cents', type: 'integer' },
          { name: 'currency', type: 'varchar', length: '3' },
          { name: 'reference', type: 'varchar', length: '100', isNullable: true },
          { name: 'created_at', type: 'bigint' },
        ],
      }),
    );
    await queryRunner.createIndex('payments', new TableIndex({ name: 'idx_payments_sale', columnNames: ['sale_id'] }));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('payments');
  }
}
