import { Controller, Get, Param } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { Public } from '../auth/auth.decorators';
import { SaleListResponseDto, SaleResponseDto } from './dto/sale-response.dto';
import { SaleIdPipe } from '../common/pipes/sale-id.pipe';
import { SalesService } from './sales.service';

@ApiTags('sales')
@Public()
@Controller('api/sales')
export class PublicSalesController {
  constructor(private readonly sales: SalesService) {}

  @Get()
  @ApiOperation({ summary: 'Sales not ended yet, soonest start first' })
  @ApiOkResponse({ type: SaleListResponseDto })
  async list(): Promise<SaleListResponseDto> {
    return { items: await this.sales.listNotEnded() };
  }

  @Get(':saleId')
  @ApiOperation({
    summary: 'One sale as buyers see it (poll this while waiting)',
    description: 'Cheap: the sale row is cached for up to one second per process; stock, pause and reservations are read live from Redis.',
  })
  @ApiOkResponse({ type: SaleResponseDto })
  @ApiResponse({ status: 400, description: 'VALIDATION_FAILED: malformed sale id' })
  @ApiResponse({ status: 404, description: 'SALE_NOT_FOUND' })
  get(@Param('saleId', SaleIdPipe) saleId: string): Promise<SaleResponseDto> {
    return this.sales.publicView(saleId);
  }
}
