import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { toBase64Url } from '@cryptomesh/crypto';
import { getCatalogEscrow, getMirroredEscrow } from '@cryptomesh/persistence';
import type { MeshResponseFields } from '../protocol/envelope';
import { GatewayError } from '../protocol/gateway-error';
import { RequestFields } from '../protocol/request-fields';
import type { Transaction } from '../protocol/transaction';
import { readKeyUdf } from './escrow-put.transaction';

/**
 * `EscrowGet` (unauthenticated, read-only): the blob stored under a key UDF (000 §6.5.1). The user
 * recovering from escrow has no device yet; the blob is encrypted, and its key UDF is the secret
 * that finds it. A blob another member of the federation received, replicated here and verified by
 * the replication service (`mirror_escrow_blobs`), is served the same way: the share holder can
 * recover at any member while the home portal is gone (docs/PROTOCOL.md "EscrowGet").
 */
@Injectable()
export class EscrowGetTransaction implements Transaction {
  readonly name = 'EscrowGet';

  constructor(private readonly dataSource: DataSource) {}

  async handle(body: Readonly<Record<string, unknown>>): Promise<MeshResponseFields> {
    const f = new RequestFields(body, this.name).allow(['Key']);
    const key = readKeyUdf(f);
    // This portal's own blobs first, then those the federation's members replicated here (#19).
    const blob =
      (await getCatalogEscrow(this.dataSource.manager, key)) ??
      (await getMirroredEscrow(this.dataSource.manager, key));
    if (blob === undefined) throw new GatewayError('not-found', `no escrow blob is stored under ${key}`);
    return { Key: key, Blob: toBase64Url(blob) };
  }
}
