import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { listCatalogObjects } from '@cryptomesh/persistence';
import { AUTHENTICATION, RequestAuthenticator } from '../auth/request-authenticator';
import type { MeshResponseFields } from '../protocol/envelope';
import { RequestFields } from '../protocol/request-fields';
import type { RequestContext, Transaction } from '../protocol/transaction';
import { readCatalogName, readRetrievalKey } from './catalog-update.transaction';

/** Objects in one CatalogGet answer at most. */
export const CATALOG_PAGE = 500;

/**
 * `CatalogGet` (authenticated, read-only; docs/design/inbound.md): the objects of one of the
 * account's catalogs — tombstones included, so that a device's copy learns of deletions — in the
 * order of their last change, from the paging cursor `After`; or the one object `Id`. `Next` is
 * answered when more follow: the `After` of the next page.
 */
@Injectable()
export class CatalogGetTransaction implements Transaction {
  readonly name = 'CatalogGet';

  constructor(
    private readonly dataSource: DataSource,
    private readonly authenticator: RequestAuthenticator,
  ) {}

  async handle(
    body: Readonly<Record<string, unknown>>,
    context: RequestContext,
  ): Promise<MeshResponseFields> {
    const f = new RequestFields(body, this.name).allow(['Account', 'Catalog', 'Id', 'After', AUTHENTICATION]);
    const catalog = readCatalogName(f);
    const id = f.has('Id') ? readRetrievalKey(f, 'Id') : undefined;
    const after = readCursor(f);
    const auth = await this.authenticator.authenticate(f, this.name, context);
    const rows = await listCatalogObjects(this.dataSource.manager, auth.name.udf, catalog, {
      limit: CATALOG_PAGE + 1,
      ...(after === undefined ? {} : { after }),
      ...(id === undefined ? {} : { id }),
    });
    const page = rows.slice(0, CATALOG_PAGE);
    // Last, so that a refused CatalogGet leaves no trace; a replay racing this one is refused here.
    await this.authenticator.recordNonce(this.dataSource.manager, auth.name.udf, auth.claims);
    return {
      Catalog: catalog,
      Objects: page.map((o) => ({ Id: o.id, State: o.state, Value: JSON.parse(o.value) as unknown })),
      ...(rows.length > CATALOG_PAGE ? { Next: page[page.length - 1]!.change } : {}),
    };
  }
}

/** `After`: a paging cursor as a `Next` answered it (decimal digits), else `request.invalid`. */
export function readCursor(f: RequestFields): string | undefined {
  const after = f.optionalString('After');
  if (after !== undefined && !/^\d{1,18}$/.test(after))
    f.fail('"After" must be a paging cursor as a "Next" answered it (decimal digits)');
  return after;
}
