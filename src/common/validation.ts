import { ValidationError, ValidationPipe } from '@nestjs/common';
import { ErrorDetail, SellException } from './errors/sell.exception';

function flatten(errors: ValidationError[], parent = ''): ErrorDetail[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((message) => ({ field, message }));
    return [...own, ...flatten(error.children ?? [], field)];
  });
}

/**
 * The global pipe: unknown fields are refused, values are converted to the DTO's types only where the
 * DTO says so (no implicit conversion of "12" into 12 for JSON bodies), and every failing field is
 * listed in `details`.
 */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    stopAtFirstError: false,
    exceptionFactory: (errors) => SellException.validation(flatten(errors)),
  });
}
