import { Body, Controller, Get, HttpCode, Param, Post, Query, StreamableFile } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiParam, ApiProduces, ApiResponse } from '@nestjs/swagger';
import { Readable } from 'node:stream';
import { OpsApi } from '../auth/ops-api.decorator';
import { SellException } from '../common/errors/sell.exception';
import { ID_PATTERN } from '../common/ids';
import { ID_RULE } from '../contract/ids';
import { ExportFcodesQueryDto } from './dto/export-fcodes-query.dto';
import { FcodeBatchListDto, FcodeSummaryDto, IssuedFcodesDto, VoidedFcodeDto } from './dto/fcode-responses.dto';
import { IssueFcodesDto } from './dto/issue-fcodes.dto';
import { FcodesService } from './fcodes.service';

function checkSaleId(saleId: string): void {
  if (!ID_PATTERN.test(saleId)) throw SellException.validation([{ field: 'saleId', message: ID_RULE }]);
}

@OpsApi('fcodes (ops)')
@ApiResponse({ status: 503, description: 'UNAVAILABLE: Redis or the database is unreachable; nothing was changed' })
@Controller('api/admin')
export class FcodesController {
  constructor(private readonly fcodes: FcodesService) {}

  @Post('sales/:saleId/fcodes')
  @HttpCode(201)
  @ApiOperation({
    summary: 'Issue a batch of F-codes for a sale',
    description:
      'Either `count` unbound codes, or one code per entry of `userIds`, each bound to that user (then `count` may be omitted, and if given must ' +
      'equal the number of user ids; repeated user ids are refused). Up to 100,000 codes per call. The codes are shown in full only in this ' +
      'response and in the CSV export; the database keeps a keyed hash and an encrypted copy. All or nothing: if any part fails, no code of ' +
      'the batch exists. Refused once the sale has ended.',
  })
  @ApiParam({ name: 'saleId' })
  @ApiCreatedResponse({ type: IssuedFcodesDto })
  @ApiResponse({ status: 400, description: 'VALIDATION_FAILED: count out of 1–100,000, count ≠ number of userIds, repeated userIds, expiresAt not in the future' })
  @ApiResponse({ status: 404, description: 'SALE_NOT_FOUND' })
  @ApiResponse({ status: 409, description: 'SALE_ENDED' })
  issue(@Param('saleId') saleId: string, @Body() body: IssueFcodesDto): Promise<IssuedFcodesDto> {
    checkSaleId(saleId);
    return this.fcodes.issue(saleId, body);
  }

  @Get('sales/:saleId/fcodes.csv')
  @ApiOperation({
    summary: 'Export F-codes as CSV',
    description:
      'Columns `code,userId,status,expiresAt` (CRLF line ends, RFC 4180 quoting). `status` is issued | redeemed (backs a live order) | void | ' +
      'expired (past expiresAt, not redeemed); `userId` is empty for unbound codes; `expiresAt` is ISO-8601, empty for codes that never expire. ' +
      'With `batchId`, that batch only; without, every code of the sale, oldest batch first. Streamed: if the export fails midway, the ' +
      'connection is cut rather than ending the file early.',
  })
  @ApiParam({ name: 'saleId' })
  @ApiProduces('text/csv')
  @ApiOkResponse({ description: 'The CSV file', schema: { type: 'string', example: 'code,userId,status,expiresAt\r\n7K3M-Q9XD-2RTW-F,u1,issued,\r\n' } })
  @ApiResponse({ status: 400, description: 'VALIDATION_FAILED (saleId or batchId)' })
  @ApiResponse({ status: 404, description: 'SALE_NOT_FOUND, or NOT_FOUND when the sale has no such batch' })
  async exportCsv(@Param('saleId') saleId: string, @Query() query: ExportFcodesQueryDto): Promise<StreamableFile> {
    checkSaleId(saleId);
    const chunks = await this.fcodes.exportCsv(saleId, query.batchId);
    const filename = query.batchId === undefined ? `fcodes-${saleId}.csv` : `fcodes-${saleId}-${query.batchId}.csv`;
    return new StreamableFile(Readable.from(chunks), { type: 'text/csv; charset=utf-8', disposition: `attachment; filename="${filename}"` });
  }

  @Get('sales/:saleId/fcodes/summary')
  @ApiOperation({
    summary: 'Count a sale\'s F-codes',
    description: '`issued` counts every code ever issued; `redeemed` those backing a live order now; `void` those voided; `expired` those past expiry that are neither void nor redeemed.',
  })
  @ApiParam({ name: 'saleId' })
  @ApiOkResponse({ type: FcodeSummaryDto })
  @ApiResponse({ status: 400, description: 'VALIDATION_FAILED (saleId)' })
  @ApiResponse({ status: 404, description: 'SALE_NOT_FOUND' })
  summary(@Param('saleId') saleId: string): Promise<FcodeSummaryDto> {
    checkSaleId(saleId);
    return this.fcodes.summary(saleId);
  }

  @Get('sales/:saleId/fcodes/batches')
  @ApiOperation({
    summary: "A sale's F-code batches with their counts",
    description:
      'Newest batch first. `bound` counts codes bound to a user; `void`, `redeemed` (backs a live order now) and `expired` (past expiresAt, ' +
      'not void, not redeemed) count each code once, as the CSV export labels it. The codes themselves are only in the CSV export.',
  })
  @ApiParam({ name: 'saleId' })
  @ApiOkResponse({ type: FcodeBatchListDto })
  @ApiResponse({ status: 400, description: 'VALIDATION_FAILED (saleId)' })
  @ApiResponse({ status: 404, description: 'SALE_NOT_FOUND' })
  batches(@Param('saleId') saleId: string): Promise<FcodeBatchListDto> {
    checkSaleId(saleId);
    return this.fcodes.batches(saleId);
  }

  @Post('fcodes/:code/void')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Void an F-code',
    description:
      'From then on the code is 403 FCODE_INVALID for everyone. Case, spaces and dashes in `code` are ignored. A code that backs a live order ' +
      'stays with that order (`orderId` names it); if that order later expires or is cancelled, the code does not become usable again. ' +
      'Voiding a void code again answers 200 with the same body.',
  })
  @ApiParam({ name: 'code', example: '7K3M-Q9XD-2RTW-F' })
  @ApiOkResponse({ type: VoidedFcodeDto })
  @ApiResponse({ status: 400, description: 'VALIDATION_FAILED: not an F-code, or its check character does not match (a typo)' })
  @ApiResponse({ status: 404, description: 'NOT_FOUND: no such F-code was ever issued' })
  voidCode(@Param('code') code: string): Promise<VoidedFcodeDto> {
    return this.fcodes.voidCode(code);
  }
}
