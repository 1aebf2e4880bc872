import { applyDecorators } from '@nestjs/common';
import { ApiBearerAuth, ApiResponse, ApiTags } from '@nestjs/swagger';
import { OpsOnly } from './auth.decorators';

/** A controller of ops routes: the `ops` role required, and its OpenAPI tag, bearer auth and 401/403 answers. */
export const OpsApi = (tag = 'sales (ops)') =>
  applyDecorators(
    ApiTags(tag),
    ApiBearerAuth(),
    ApiResponse({ status: 401, description: 'UNAUTHENTICATED' }),
    ApiResponse({ status: 403, description: 'FORBIDDEN: the token lacks the ops role' }),
    OpsOnly(),
  );
