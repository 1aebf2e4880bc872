import { Body, Controller, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiResponse } from '@nestjs/swagger';
import { OpsApi } from '../auth/ops-api.decorator';
import { AdjustStockDto } from './dto/adjust-stock.dto';
import { CreateSaleDto } from './dto/create-sale.dto';
import { ListSalesQueryDto } from './dto/list-sales-query.dto';
import { SalePageResponseDto, SaleResponseDto } from './dto/sale-response.dto';
import { SaleStatsDto } from './dto/sale-stats.dto';
import { UpdateSaleDto } from './dto/update-sale.dto';
import { ObjectBodyPipe } from '../common/pipes/object-body.pipe';
import { SaleIdPipe } from '../common/pipes/sale-id.pipe';
import { SalesService } from './sales.service';

@OpsApi()
@Controller('api/admin/sales')
export class AdminSalesController {
  constructor(private readonly sales: SalesService) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Create a sale', description: 'Defaults and rules as in the README; every broken rule is listed in `details`.' })
  @ApiCreatedResponse({ type: SaleResponseDto })
  @ApiResponse({ status: 400, description: 'VALIDATION_FAILED' })
  @ApiResponse({ status: 503, description: 'UNAVAILABLE: Redis or the database is down; nothing was created' })
  create(@Body(new ObjectBodyPipe()) body: CreateSaleDto): Promise<SaleResponseDto> {
    return this.sales.create(body);
  }

  @Get()
  @ApiOperation({
    summary: 'Every sale, ended ones included, newest startsAt first',
    description:
      '`phase` filters by comma-separated phases (as of now), `q` finds text in the sku or the name (any case), `limit` is 1–200 (default 50). ' +
      'Pages follow `nextCursor` (null on the last page); the order is startsAt descending, then id, so no sale is skipped or repeated ' +
      'between pages while sales are created.',
  })
  @ApiOkResponse({ type: SalePageResponseDto })
  @ApiResponse({ status: 400, description: 'VALIDATION_FAILED: unknown phase, limit out of 1–200, q over 200 characters, or a cursor this route did not return' })
  list(@Query() query: ListSalesQueryDto): Promise<SalePageResponseDto> {
    return this.sales.listForAdmin(query);
  }

  @Get(':saleId')
  @ApiOperation({ summary: 'One sale, read fresh from the database' })
  @ApiOkResponse({ type: SaleResponseDto })
  @ApiResponse({ status: 400, description: 'VALIDATION_FAILED: malformed sale id' })
  @ApiResponse({ status: 404, description: 'SALE_NOT_FOUND' })
  get(@Param('saleId', SaleIdPipe) saleId: string): Promise<SaleResponseDto> {
    return this.sales.adminView(saleId);
  }

  @Patch(':saleId')
  @ApiOperation({
    summary: 'Change times, limits, name, description, price or admission',
    description:
      'Any subset of the fields; the merged sale must satisfy the same time rules as a new one. Allowed only before fcodeOpensAt ' +
      '(from then on buyers may be buying): 409 SALE_LOCKED after. sku, currency and stock are not editable here (400). ' +
      'A PATCH is written only if none of the sale\'s times (queueOpensAt and lotteryClosesAt included) changed since it was checked; ' +
      'otherwise it is checked again against the sale as it is now, so concurrent PATCHes never combine into times neither checked.',
  })
  @ApiOkResponse({ type: SaleResponseDto })
  @ApiResponse({ status: 400, description: 'VALIDATION_FAILED (also for an empty body: nothing to change)' })
  @ApiResponse({ status: 404, description: 'SALE_NOT_FOUND' })
  @ApiResponse({ status: 409, description: 'SALE_LOCKED: now ≥ fcodeOpensAt' })
  update(@Param('saleId', SaleIdPipe) saleId: string, @Body(new ObjectBodyPipe({ nonEmpty: true })) body: UpdateSaleDto): Promise<SaleResponseDto> {
    return this.sales.update(saleId, body);
  }

  @Post(':saleId/stock')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Add units to a pool, or remove unsold ones',
    description:
      'Allowed in any phase, live included, atomically with purchases. A negative `add` removes only UNSOLD units: it is clamped to what ' +
      'the pool still holds (never below 0), and units in live orders are never taken back; compare `stock`/`fcodeStock` in the response ' +
      'to see what was removed. Adding units clears the sold-out state on every instance.',
  })
  @ApiOkResponse({ type: SaleResponseDto })
  @ApiResponse({ status: 400, description: 'VALIDATION_FAILED' })
  @ApiResponse({ status: 404, description: 'SALE_NOT_FOUND' })
  adjustStock(@Param('saleId', SaleIdPipe) saleId: string, @Body(new ObjectBodyPipe()) body: AdjustStockDto): Promise<SaleResponseDto> {
    return this.sales.adjustStock(saleId, body.pool, body.add);
  }

  @Post(':saleId/pause')
  @HttpCode(200)
  @ApiOperation({ summary: 'Pause: purchases are refused with 409 SALE_PAUSED; nothing else changes' })
  @ApiOkResponse({ type: SaleResponseDto })
  @ApiResponse({ status: 404, description: 'SALE_NOT_FOUND' })
  pause(@Param('saleId', SaleIdPipe) saleId: string): Promise<SaleResponseDto> {
    return this.sales.setPaused(saleId, true);
  }

  @Post(':saleId/resume')
  @HttpCode(200)
  @ApiOperation({ summary: 'Resume a paused sale' })
  @ApiOkResponse({ type: SaleResponseDto })
  @ApiResponse({ status: 404, description: 'SALE_NOT_FOUND' })
  resume(@Param('saleId', SaleIdPipe) saleId: string): Promise<SaleResponseDto> {
    return this.sales.setPaused(saleId, false);
  }

  @Get(':saleId/stats')
  @ApiOperation({
    summary: 'Counters of a sale',
    description:
      'From the live Redis counters; orders.persisted and fcodes.issued are counted in the database. Extra fields: accepted (orders ever ' +
      'accepted), stockEquationHolds, orderWriter { lag, parked }.',
  })
  @ApiOkResponse({ type: SaleStatsDto })
  @ApiResponse({ status: 404, description: 'SALE_NOT_FOUND' })
  stats(@Param('saleId', SaleIdPipe) saleId: string): Promise<SaleStatsDto> {
    return this.sales.stats(saleId);
  }
}
