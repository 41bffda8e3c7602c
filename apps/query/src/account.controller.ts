import { Controller, Get, Logger, Param, Req, UseFilters } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { requestLines } from '@cryptomesh/service';
import { AccountService, type AccountAnswer } from './account.service';
import { QueryErrorFilter } from './query-error.filter';

/**
 * `GET /accounts/{address}` (docs/design/query.md): where an account lives and the ids of its
 * current Master and Personal Profiles — a hint that a client confirms with verified reads.
 */
@Controller('accounts')
@UseFilters(QueryErrorFilter)
export class AccountController {
  private readonly logger = new Logger('query');

  constructor(private readonly accounts: AccountService) {}

  @Get(':address')
  async account(@Param('address') address: string, @Req() request: FastifyRequest): Promise<AccountAnswer> {
    return this.accounts.locate(address, requestLines(request.raw, 'query', this.logger));
  }
}
