import { MigrationInterface, QueryRunner, Table, TableColumnOptions, TableIndex } from 'typeorm';

/*
 * Written with TypeORM's schema builder rather than raw SQL so that the one migration set runs on
 * PostgreSQL and on the embedded SQLite database alike. Times are epoch milliseconds (bigint).
 */
const text = (name: string, length: number, extra: Partial<TableColumnOptions> = {}): TableColumnOptions => ({ name, type: 'varchar', length: String(length), ...extra });
const integer = (name: string, extra: Partial<TableColumnOptions> = {}): TableColumnOptions => ({ name, type: 'integer', ...extra });
const epoch = (name: string, extra: Partial<TableColumnOptions> = {}): TableColumnOptions => ({ name, type: 'bigint', ...extra });

export class InitialSchema1763900000000 implements MigrationInterface {
  name = 'InitialSchema1763900000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'sales',
        columns: [
          text('id', 64, { isPrimary: true }),
          text('sku', 200),
          text('name', 200),
          { name: 'description', type: 'text', default: "''" },
          integer('price_cents'),
          text('currency', 3),
          integer('stock'),
          integer('fcode_stock'),
          integer('per_user_limit'),
          { name: 'reservation_required', type: 'boolean' },
          epoch('reservation_opens_at'),
          epoch('reservation_closes_at'),
          epoch('fcode_opens_at'),
          epoch('starts_at'),
          epoch('ends_at'),
          integer('payment_window_seconds'),
          { name: 'paused', type: 'boolean', default: false },
          epoch('created_at'),
          epoch('updated_at'),
        ],
      }),
    );
    await queryRunner.createIndex('sales', new TableIndex({ name: 'idx_sales_ends_at', columnNames: ['ends_at'] }));

    await queryRunner.createTable(
      new Table({
        name: 'reservations',
        columns: [text('sale_id', 64, { isPrimary: true }), text('user_id', 64, { isPrimary: true }), epoch('reserved_at'), text('source', 8)],
      }),
    );

    await queryRunner.createTable(
      new Table({
        name: 'orders',
        columns: [
          text('id', 100, { isPrimary: true }),
          text('sale_id', 64),
          text('user_id', 64),
          integer('quantity'),
          integer('unit_price_cents'),
          integer('amount_cents'),
          text('currency', 3),
          text('status', 20),
          text('pool', 8),
          text('fcode_hash', 64, { isNullable: true }),
          epoch('created_at'),
          epoch('pay_by'),
          epoch('paid_at', { isNullable: true }),
          epoch('updated_at'),
        ],
      }),
    );
    await queryRunner.createIndex('orders', new TableIndex({ name: 'idx_orders_user', columnNames: ['user_id', 'created_at'] }));
    await queryRunner.createIndex('orders', new TableIndex({ name: 'idx_orders_sale_status', columnNames: ['sale_id', 'status'] }));

    await queryRunner.createTable(
      new Table({
        name: 'fcode_batches',
        columns: [text('id', 64, { isPrimary: true }), text('sale_id', 64), integer('count'), epoch('expires_at', { isNullable: true }), epoch('created_at')],
      }),
    );
    await queryRunner.createIndex('fcode_batches', new TableIndex({ name: 'idx_fcode_batches_sale', columnNames: ['sale_id'] }));

    await queryRunner.createTable(
      new Table({
        name: 'fcodes',
        columns: [
          text('code_hash', 64, { isPrimary: true }),
          text('code_cipher', 200),
          text('sale_id', 64),
          text('batch_id', 64),
          text('user_id', 64, { isNullable: true }),
          text('status', 8),
          epoch('expires_at', { isNullable: true }),
          epoch('created_at'),
          epoch('voided_at', { isNullable: true }),
        ],
      }),
    );
    await queryRunner.createIndex('fcodes', new TableIndex({ name: 'idx_fcodes_sale_batch', columnNames: ['sale_id', 'batch_id'] }));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of ['fcodes', 'fcode_batches', 'orders', 'reservations', 'sales']) await queryRunner.dropTable(table);
  }
}
