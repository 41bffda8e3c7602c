import { Controller, Get, Query, UseFilters } from '@nestjs/common';
import { FINDING_KINDS, FINDING_STATUSES } from './federation-reader';
import {
  DEFAULT_FINDINGS_LIMIT,
  FederationService,
  MAX_FINDINGS_LIMIT,
  type FederationStatus,
} from './federation.service';
import { QueryErrorFilter } from './query-error.filter';
import { choiceParam, limitParam, textParam } from './query-params';

/** Longest `subject` accepted: portal ids are short names. */
const MAX_SUBJECT_LENGTH = 200;

/**
 * `GET /federation` and `GET /findings` (federation.md "Query"). A bad query parameter is
 * `400 request.invalid`; unknown parameters are ignored.
 */
@Controller()
@UseFilters(QueryErrorFilter)
export class FederationController {
  constructor(private readonly federation: FederationService) {}

  @Get('federation')
  async status(): Promise<FederationStatus> {
    return this.federation.status();
  }

  @Get('findings')
  async findings(
    @Query('subject') subject: unknown,
    @Query('kind') kind: unknown,
    @Query('status') status: unknown,
    @Query('limit') limit: unknown,
  ) {
    const filter = {
      subject: textParam('subject', subject, MAX_SUBJECT_LENGTH),
      kind: choiceParam('kind', kind, FINDING_KINDS),
      status: choiceParam('status', status, FINDING_STATUSES),
      limit: limitParam('limit', limit, DEFAULT_FINDINGS_LIMIT, MAX_FINDINGS_LIMIT),
    };
    return this.federation.findings(filter);
  }
}
