import { Body, Controller, Headers, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiExtraModels, ApiOkResponse, ApiOperation, ApiResponse, getSchemaPath } from '@nestjs/swagger';
import { OpsApi } from '../auth/ops-api.decorator';
import { SellException } from '../common/errors/sell.exception';
import { createValidationPipe } from '../common/validation';
import { SaleIdPipe } from '../common/pipes/sale-id.pipe';
import { IMPORT_MAX_IDS, ImportReservationsDto } from './dto/import-reservations.dto';
import { ImportResultDto } from './dto/reservation-response.dto';
import { parseUserIdCsv } from './reservation-csv';
import { ReservationsService } from './reservations.service';

const validationPipe = createValidationPipe();

@OpsApi('reservations (ops)')
@ApiExtraModels(ImportReservationsDto)
@Controller('api/admin/sales/:saleId/reservations')
export class AdminReservationsController {
  constructor(private readonly reservations: ReservationsService) {}

  @Post('import')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Import reservations (1 to 100,000 user ids per call)',
    description:
      'JSON `{ "userIds": [...] }`, or `content-type: text/csv` with one user id a line (blank lines and a first `userId` header line are ' +
      'ignored). Allowed in any phase before endsAt (409 SALE_ENDED after). Ids already reserved, or repeated in the request, are counted ' +
      'as duplicates and keep their first reservedAt; repeating an import after a 503 completes it.',
  })
  @ApiConsumes('application/json', 'text/csv')
  @ApiBody({
    schema: {
      oneOf: [{ $ref: getSchemaPath(ImportReservationsDto) }, { type: 'string', example: 'userId\nu1\nu2\n', description: 'text/csv: one user id a line' }],
    },
  })
  @ApiOkResponse({ type: ImportResultDto })
  @ApiResponse({ status: 400, description: 'VALIDATION_FAILED: no ids, more than 100,000, or a malformed id (CSV: listed by line)' })
  @ApiResponse({ status: 404, description: 'SALE_NOT_FOUND' })
  @ApiResponse({ status: 409, description: 'SALE_ENDED' })
  @ApiResponse({ status: 413, description: 'Body larger than BODY_LIMIT_BYTES' })
  async import(@Param('saleId', SaleIdPipe) saleId: string, @Body() body: unknown, @Headers('content-type') contentType: string | undefined): Promise<ImportResultDto> {
    return this.reservations.importUserIds(saleId, await userIdsOf(body, contentType ?? ''));
  }
}

/** The ids of an import body, JSON or CSV (the app hands text bodies over as a string). */
async function userIdsOf(body: unknown, contentType: string): Promise<string[]> {
  if (/^text\/(csv|plain)\b/i.test(contentType)) {
    if (typeof body !== 'string') throw SellException.validation([{ field: 'body', message: 'must be text: one user id a line' }]);
    const { userIds, problems } = parseUserIdCsv(body);
    if (problems.length > 0) throw SellException.validation(problems, 'Some lines of the CSV are not user ids');
    if (userIds.length === 0) throw SellException.validation([{ field: 'body', message: 'the CSV holds no user id' }]);
    if (userIds.length > IMPORT_MAX_IDS) throw SellException.validation([{ field: 'body', message: `at most ${IMPORT_MAX_IDS} user ids per call (got ${userIds.length})` }]);
    return userIds;
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw SellException.validation([{ field: 'body', message: 'must be a JSON object { "userIds": [...] } or text/csv' }]);
  }
  const dto = (await validationPipe.transform(body, { type: 'body', metatype: ImportReservationsDto })) as ImportReservationsDto;
  return dto.userIds;
}
