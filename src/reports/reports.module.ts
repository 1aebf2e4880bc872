import { Module } from '@nestjs/common';
import { FcodesModule } from '../fcodes/fcodes.module';
import { PaymentsModule } from '../lifecycle/payments/payments.module';
import { SalesModule } from '../sales/sales.module';
import { SaleReportController } from './sale-report.controller';
import { SaleReportRepository } from './sale-report.repository';
import { SaleReportService } from './sale-report.service';

/** The end-of-sale report: reads what the sales, orders, F-codes and payments features keep. */
@Module({
  imports: [SalesModule, FcodesModule, PaymentsModule],
  controllers: [SaleReportController],
  providers: [SaleReportService, SaleReportRepository],
})
export class ReportsModule {}
