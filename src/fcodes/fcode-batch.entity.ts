import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { epochMs } from '../database/columns';

@Entity('fcode_batches')
@Index('idx_fcode_batches_sale', ['saleId'])
export class FcodeBatchEntity {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  id: string;

  @Column({ name: 'sale_id', type: 'varchar', length: 64 })
  saleId: string;

  @Column({ type: 'integer' })
  count: number;

  @Column({ name: 'expires_at', type: 'bigint', nullable: true, transformer: epochMs })
  expiresAt: number | null;

  @Column({ name: 'created_at', type: 'bigint', transformer: epochMs })
  createdAt: number;
}
