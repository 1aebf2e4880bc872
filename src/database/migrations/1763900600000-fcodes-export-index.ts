import { MigrationInterface, QueryRunner, TableIndex } from 'typeorm';

/*
 * The F-code CSV export and summary page through a sale's codes batch by batch in hash order (keyset
 * pagination). An index on (sale_id, batch_id, code_hash) serves those pages without sorting a whole
 * batch per page; it also covers every lookup the (sale_id, batch_id) index served, which it replaces.
 */
export class FcodesExportIndex1763900600000 implements MigrationInterface {
  name = 'FcodesExportIndex1763900600000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropIndex('fcodes', 'idx_fcodes_sale_batch');
    await queryRunner.createIndex('fcodes', new TableIndex({ name: 'idx_fcodes_sale_batch_hash', columnNames: ['sale_id', 'batch_id', 'code_hash'] }));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropIndex('fcodes', 'idx_fcodes_sale_batch_hash');
    await queryRunner.createIndex('fcodes', new TableIndex({ name: 'idx_fcodes_sale_batch', columnNames: ['sale_id', 'batch_id'] }));
  }
}
