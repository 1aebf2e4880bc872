import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { epochMs } from '../database/columns';

export type FcodeStatus = 'issued' | 'void';

/**
 * An F-code as the database keeps it: looked up by a keyed hash (HMAC with FCODE_SECRET); the plain
 * code is kept only encrypted (for the ops CSV export), never in clear.
 */
@Entity('fcodes')
@Index('idx_fcodes_sale_batch_hash', ['saleId', 'batchId', 'codeHash'])
export class FcodeEntity {
  @PrimaryColumn({ name: 'code_hash', type: 'varchar', length: 64 })
  codeHash: string;

  @Column({ name: 'code_cipher', type: 'varchar', length: 200 })
  codeCipher: string;

  @Column({ name: 'sale_id', type: 'varchar', length: 64 })
  saleId: string;

  @Column({ name: 'batch_id', type: 'varchar', length: 64 })
  batchId: string;

  @Column({ name: 'user_id', type: 'varchar', length: 64, nullable: true })
  userId: string | null;

  @Column({ type: 'varchar', length: 8 })
  status: FcodeStatus;

  @Column({ name: 'expires_at', type: 'bigint', nullable: true, transformer: epochMs })
  expiresAt: number | null;

  @Column({ name: 'created_at', type: 'bigint', transformer: epochMs })
  createdAt: number;

  @Column({ name: 'voided_at', type: 'bigint', nullable: true, transformer: epochMs })
  voidedAt: number | null;
}
