import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { fromBase64Url, parseUdf } from '@cryptomesh/crypto';
import { countCatalogEscrow, putCatalogEscrow } from '@cryptomesh/persistence';
import { AUTHENTICATION, RequestAuthenticator } from '../auth/request-authenticator';
import type { GatewayConfig } from '../gateway.config';
import { GATEWAY_CONFIG } from '../gateway.tokens';
import type { MeshResponseFields } from '../protocol/envelope';
import { GatewayError } from '../protocol/gateway-error';
import { RequestFields } from '../protocol/request-fields';
import type { RequestContext, Transaction } from '../protocol/transaction';

/**
 * `EscrowPut` (authenticated, NOT logged): stores an escrow blob under the UDF of its key (000 §6.5.1).
 * Authentication only keeps anonymous clients from filling the store: the blob row records neither
 * the account nor the device (an account-bound log entry would name the owner, mesh-model.md
 * "Records"). Create only: a key that holds a blob is `persistence.conflict`, so nobody can
 * overwrite another's escrow. `Blob` is base64url, at most MAX_PROFILE_BYTES once decoded.
 */
@Injectable()
export class EscrowPutTransaction implements Transaction {
  readonly name = 'EscrowPut';

  constructor(
    private readonly dataSource: DataSource,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly authenticator: RequestAuthenticator,
  ) {}

  async handle(
    body: Readonly<Record<string, unknown>>,
    context: RequestContext,
  ): Promise<MeshResponseFields> {
    const f = new RequestFields(body, this.name).allow(['Account', 'Key', 'Blob', AUTHENTICATION]);
    const key = readKeyUdf(f);
    const blob = fromBase64Url(f.string('Blob'));
    if (blob === undefined || blob.length === 0) return f.fail('"Blob" must be non-empty base64url');
    if (blob.length > this.config.MAX_PROFILE_BYTES)
      throw new GatewayError(
        'profile.too-large',
        `the blob is ${blob.length} bytes; the portal's limit is ${this.config.MAX_PROFILE_BYTES} (MaxProfileBytes)`,
      );
    const auth = await this.authenticator.authenticate(f, this.name, context);
    await this.dataSource.transaction(async (manager) => {
      const quota = this.config.QUOTA_ESCROW_PER_ACCOUNT;
      if (quota > 0 && !(await countCatalogEscrow(manager, auth.name.udf, quota)))
        throw new GatewayError(
          'quota.exceeded',
          `the account has stored ${quota} escrow blobs, this portal's limit per account`,
          { reason: 'quota.escrow' },
        );
      if (!(await putCatalogEscrow(manager, key, blob)))
        throw new GatewayError('persistence.conflict', `an escrow blob is already stored under ${key}`, {
          reason: 'persistence.exists',
        });
      await this.authenticator.recordNonce(manager, auth.name.udf, auth.claims);
    });
    return { Key: key };
  }
}

/** The escrow key's UDF in canonical presentation; `request.invalid` when it is not a UDF. */
export function readKeyUdf(f: RequestFields): string {
  const text = f.string('Key');
  try {
    return parseUdf(text).text;
  } catch {
    return f.fail(`"Key" must be a UDF, got ${JSON.stringify(text)}`);
  }
}
