import { Injectable, PipeTransform } from '@nestjs/common';
import { SellException } from '../common/errors/sell.exception';
import { ID_PATTERN } from '../common/ids';

/** Path `:saleId`: 400 VALIDATION_FAILED unless it looks like an id (an unknown but valid id is a 404 later). */
@Injectable()
export class SaleIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (typeof value !== 'string' || !ID_PATTERN.test(value)) {
      throw SellException.validation([{ field: 'saleId', message: 'must be 1-100 characters of letters, digits, _ . -' }]);
    }
    return value;
  }
}
