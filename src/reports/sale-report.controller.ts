import { Controller, Get, Param } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiResponse } from '@nestjs/swagger';
import { OpsApi } from '../auth/ops-api.decorator';
import { SaleIdPipe } from '../common/pipes/sale-id.pipe';
import { SaleReportDto } from './dto/sale-report.dto';
import { SaleReportService } from './sale-report.service';

@OpsApi()
@Controller('api/admin/sales')
export class SaleReportController {
  constructor(private readonly reports: SaleReportService) {}

  @Get(':saleId/report')
  @ApiOperation({
    summary: 'End-of-sale report: Redis, the database and the payments ledger reconciled',
    description:
      'Units loaded, sold, paid, expired, cancelled and returned (units from the database); orders by status in Redis and in the database ' +
      'side by side; payments taken and refunded (the payments ledger, which records every answer of the payment provider); F-codes issued, ' +
      'redeemed, void, expired; reservations and distinct buyers; when the sale sold out (the newest live order, if both pools are empty). ' +
      '`consistent` is true when `differences` is empty; each difference names its check. Redis is the reference for orders (an accepted ' +
      'order is there first), so while the order pipeline has a backlog the report says so. Available for any sale, live or ended.',
  })
  @ApiOkResponse({ type: SaleReportDto })
  @ApiResponse({ status: 400, description: 'VALIDATION_FAILED: malformed sale id' })
  @ApiResponse({ status: 404, description: 'SALE_NOT_FOUND' })
  report(@Param('saleId', SaleIdPipe) saleId: string): Promise<SaleReportDto> {
    return this.reports.report(saleId);
  }
}
