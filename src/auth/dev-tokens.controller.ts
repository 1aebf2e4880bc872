import { Body, Controller, HttpCode, Inject, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { ErrorCode } from '../common/errors/error-code';
import { SellException } from '../common/errors/sell.exception';
import { Public } from './auth.decorators';
import { CreateDevTokenDto } from './dto/create-dev-token.dto';
import { TokenService } from './token.service';

@ApiTags('auth')
@Controller('api/dev/tokens')
export class DevTokensController {
  constructor(
    private readonly tokens: TokenService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Public()
  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Mint a token for any user (development only; 404 when AUTH_DEV_TOKENS is off)' })
  create(@Body() body: CreateDevTokenDto): { token: string } {
    if (!this.config.authDevTokens) throw new SellException(ErrorCode.NotFound, 'Dev tokens are disabled');
    return { token: this.tokens.sign(body.userId, body.roles ?? []) };
  }
}
