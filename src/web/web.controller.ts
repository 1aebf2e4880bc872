import { Controller, Get, Param, Res } from '@nestjs/common';
import { ApiExcludeEndpoint, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Public } from '../auth/auth.decorators';
import { ErrorCode } from '../common/errors/error-code';
import { SellException } from '../common/errors/sell.exception';
import { notBuiltPage, WebAssetsService, WebPage } from './web-assets.service';

/**
 * The pages any visitor may load. Scripts come only from this origin; the API and its token do the
 * protecting, so the HTML itself is public and carries no secrets.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  // Preact sets style properties from script; a few attributes are inline in the built-in fallback page.
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
].join('; ');

@ApiTags('web')
@Public()
@Controller()
export class WebController {
  constructor(private readonly assets: WebAssetsService) {}

  @Get()
  @ApiOperation({ summary: 'The storefront (single-page app): the list of sales' })
  @ApiProduces('text/html')
  storefront(@Res({ passthrough: true }) reply: FastifyReply): string {
    return this.page('storefront', reply);
  }

  @Get('sales/:saleId')
  @ApiOperation({ summary: 'The storefront: one sale (reserve, F-code, buy)' })
  @ApiProduces('text/html')
  salePage(@Param('saleId') _saleId: string, @Res({ passthrough: true }) reply: FastifyReply): string {
    return this.page('storefront', reply);
  }

  @Get('orders/:orderId')
  @ApiOperation({ summary: 'The storefront: one order (pay or cancel before the payment window closes)' })
  @ApiProduces('text/html')
  orderPage(@Param('orderId') _orderId: string, @Res({ passthrough: true }) reply: FastifyReply): string {
    return this.page('storefront', reply);
  }

  @Get('ops')
  @ApiOperation({ summary: 'The ops console (single-page app; it signs in with an ops token)' })
  @ApiProduces('text/html')
  opsConsole(@Res({ passthrough: true }) reply: FastifyReply): string {
    return this.page('ops', reply);
  }

  @Get('ops/*')
  @ApiExcludeEndpoint()
  opsConsoleDeepLink(@Res({ passthrough: true }) reply: FastifyReply): string {
    return this.page('ops', reply);
  }

  @Get('assets/:name')
  @ApiOperation({ summary: 'Built scripts and styles of the storefront and the ops console (content-hashed, cached for a year)' })
  asset(@Param('name') name: string, @Res() reply: FastifyReply): FastifyReply {
    const directory = this.assets.assetsDirectory;
    if (directory === undefined || !this.assets.hasAsset(name)) throw new SellException(ErrorCode.NotFound, `No web asset named ${name.slice(0, 100)}`);
    // Names carry a content hash, so a file never changes under its name.
    return reply.sendFile(name, directory, { maxAge: '365d', immutable: true });
  }

  private page(page: WebPage, reply: FastifyReply): string {
    const html = this.assets.page(page);
    void reply
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-cache')
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'same-origin')
      .header('content-security-policy', CONTENT_SECURITY_POLICY);
    return html ?? notBuiltPage(page);
  }
}
