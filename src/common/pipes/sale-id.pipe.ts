import { Injectable, PipeTransform } from '@nestjs/common';
import { SellException } from '../errors/sell.exception';
import { ID_RULE } from '../../contract/ids';
import { ID_PATTERN } from '../ids';

/** Path `:saleId`: 400 VALIDATION_FAILED unless it looks like an id (an unknown but valid id is a 404 later). */
@Injectable()
export class SaleIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (typeof value !== 'string' || !ID_PATTERN.test(value)) {
      throw SellException.validation([{ field: 'saleId', message: ID_RULE }]);
    }
    return value;
  }
}
