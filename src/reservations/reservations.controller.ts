import { Controller, Get, HttpCode, Param, Post, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { CurrentUser } from '../auth/auth.decorators';
import type { AuthUser } from '../auth/token.service';
import { SaleIdPipe } from '../common/pipes/sale-id.pipe';
import { ReservationResponseDto } from './dto/reservation-response.dto';
import { ReservationsService } from './reservations.service';

@ApiTags('reservations')
@ApiBearerAuth()
@ApiResponse({ status: 401, description: 'UNAUTHENTICATED' })
@Controller('api/sales/:saleId/reservations')
export class ReservationsController {
  constructor(private readonly reservations: ReservationsService) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Reserve a place in the sale (inside its reservation window)', description: '201 the first time; 200 with the first reservedAt on a repeat.' })
  @ApiCreatedResponse({ type: ReservationResponseDto, description: 'Reserved now' })
  @ApiOkResponse({ type: ReservationResponseDto, description: 'Already reserved: the first reservation' })
  @ApiResponse({ status: 400, description: 'VALIDATION_FAILED: malformed sale id' })
  @ApiResponse({ status: 404, description: 'SALE_NOT_FOUND' })
  @ApiResponse({ status: 409, description: 'RESERVATION_NOT_OPEN (before reservationOpensAt) or RESERVATION_CLOSED (from reservationClosesAt)' })
  @ApiResponse({ status: 503, description: 'UNAVAILABLE: retry; a repeat converges on the same reservation' })
  async reserve(@Param('saleId', SaleIdPipe) saleId: string, @CurrentUser() user: AuthUser, @Res({ passthrough: true }) reply: FastifyReply): Promise<ReservationResponseDto> {
    const { reservation, created } = await this.reservations.reserve(saleId, user.userId);
    if (!created) void reply.status(200);
    return reservation;
  }

  @Get('me')
  @ApiOperation({ summary: "The caller's reservation for the sale" })
  @ApiOkResponse({ type: ReservationResponseDto })
  @ApiResponse({ status: 404, description: 'RESERVATION_NOT_FOUND (no reservation) or SALE_NOT_FOUND' })
  mine(@Param('saleId', SaleIdPipe) saleId: string, @CurrentUser() user: AuthUser): Promise<ReservationResponseDto> {
    return this.reservations.findMine(saleId, user.userId);
  }
}
