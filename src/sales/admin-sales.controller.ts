import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { OpsOnly } from '../auth/auth.decorators';
import { CreateSaleDto } from './dto/create-sale.dto';
import { SaleResponseDto } from './dto/sale-response.dto';
import { SaleIdPipe } from './sale-id.pipe';
import { SalesService } from './sales.service';

@ApiTags('sales (ops)')
@ApiBearerAuth()
@ApiResponse({ status: 401, description: 'UNAUTHENTICATED' })
@ApiResponse({ status: 403, description: 'FORBIDDEN: the token lacks the ops role' })
@OpsOnly()
@Controller('api/admin/sales')
export class AdminSalesController {
  constructor(private readonly sales: SalesService) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Create a sale', description: 'Defaults and rules as in API.md; every broken rule is listed in `details`.' })
  @ApiCreatedResponse({ type: SaleResponseDto })
  @ApiResponse({ status: 400, description: 'VALIDATION_FAILED' })
  @ApiResponse({ status: 503, description: 'UNAVAILABLE: Redis or the database is down; nothing was created' })
  create(@Body() body: CreateSaleDto): Promise<SaleResponseDto> {
    return this.sales.create(body);
  }

  @Get(':saleId')
  @ApiOperation({ summary: 'One sale, read fresh from the database' })
  @ApiOkResponse({ type: SaleResponseDto })
  @ApiResponse({ status: 400, description: 'VALIDATION_FAILED: malformed sale id' })
  @ApiResponse({ status: 404, description: 'SALE_NOT_FOUND' })
  get(@Param('saleId', SaleIdPipe) saleId: string): Promise<SaleResponseDto> {
    return this.sales.adminView(saleId);
  }
}
