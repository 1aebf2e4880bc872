import { Injectable, PipeTransform } from '@nestjs/common';
import { SellException } from '../errors/sell.exception';

/**
 * A JSON body that must be an object, and with `nonEmpty`, name at least one field. Runs after the
 * global ValidationPipe, which turns a `null` body into an empty DTO (whose declared fields are present
 * but undefined), so "empty" means no field with a value.
 */
@Injectable()
export class ObjectBodyPipe implements PipeTransform<unknown, unknown> {
  constructor(private readonly options: { nonEmpty?: boolean } = {}) {}

  transform(value: unknown): unknown {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw SellException.validation([{ field: 'body', message: 'must be a JSON object' }]);
    }
    if (this.options.nonEmpty && Object.values(value).every((field) => field === undefined)) {
      throw SellException.validation([{ field: 'body', message: 'must name at least one field to change' }]);
    }
    return value;
  }
}
