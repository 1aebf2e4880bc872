import { Module } from '@nestjs/common';
import { SalesGateway } from './sales.gateway';
import { SalesRepository } from './sales.repository';

/**
 * The sales feature's doors: the `sales` table and each sale's Redis state. A module of their own, with
 * no imports, so that the features and stages that read a sale (the order writer, the rebuild, F-codes,
 * order reads) need not import SalesModule, whose stats read theirs in turn.
 */
@Module({
  providers: [SalesRepository, SalesGateway],
  exports: [SalesRepository, SalesGateway],
})
export class SalesStoreModule {}
