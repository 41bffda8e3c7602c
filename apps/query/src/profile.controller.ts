import { Controller, Get, Param, UseFilters } from '@nestjs/common';
import { ProfileService, type ProfileAnswer } from './profile.service';
import { QueryErrorFilter } from './query-error.filter';

/**
 * `GET /profiles/{udf}` (DESIGN.md "HTTP"; docs/design/query.md): the current signed profile, the
 * log it was found in, the index of the entry that set it, its inclusion proof and the checkpoint it
 * is proven against. `{udf}` may also be `mmm:<udf>` or `mmm:<udf>:<account>`, URL-encoded or not.
 */
@Controller('profiles')
@UseFilters(QueryErrorFilter)
export class ProfileController {
  constructor(private readonly profiles: ProfileService) {}

  @Get(':udf')
  async profile(@Param('udf') udf: string): Promise<ProfileAnswer> {
    return this.profiles.profile(udf);
  }
}
