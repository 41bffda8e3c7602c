import { Inject, Injectable } from '@nestjs/common';
import { MESH_PROTOCOL_VERSION } from '@cryptomesh/mesh';
import type { GatewayConfig } from './gateway.config';
import { GATEWAY_CONFIG } from './gateway.tokens';
import type { MeshResponseFields } from './protocol/envelope';
import { RequestFields } from './protocol/request-fields';
import type { Transaction } from './protocol/transaction';

/**
 * `Hello`: who this portal is and what it demands, unauthenticated. Clients pin `VerifierKey`
 * (the log key) and `WitnessKey` on first contact, and read the policy before they create an
 * account (seed 002 §7.4, §7.6).
 */
@Injectable()
export class HelloTransaction implements Transaction {
  readonly name = 'Hello';

  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig) {}

  handle(body: Readonly<Record<string, unknown>>): Promise<MeshResponseFields> {
    // docs/PROTOCOL.md: a field the transaction does not define is refused, Hello's included.
    new RequestFields(body, this.name).allow([]);
    const c = this.config;
    return Promise.resolve({
      // The protocol's version, not the software's: clients read what the wire format is.
      Version: MESH_PROTOCOL_VERSION,
      PortalId: c.PORTAL_ID,
      Origin: c.LOG_ORIGIN,
      VerifierKey: c.LOG_VERIFIER_KEY,
      ...(c.WITNESS_VERIFIER_KEY ? { WitnessKey: c.WITNESS_VERIFIER_KEY } : {}),
      ...(c.COSIGNATURE_QUORUM === undefined ? {} : { CosignatureQuorum: c.COSIGNATURE_QUORUM }),
      ...(c.QUERY_URL === undefined ? {} : { QueryUrl: c.QUERY_URL }),
      Policy: {
        MaxRequestBytes: c.MAX_REQUEST_BYTES,
        MaxProfileBytes: c.MAX_PROFILE_BYTES,
        RateLimits: {
          PerAddressPerMinute: c.RATE_LIMIT_ADDRESS_PER_MINUTE,
          PerAccountPerMinute: c.RATE_LIMIT_ACCOUNT_PER_MINUTE,
        },
        ProofOfWork: { Level: c.PROOF_OF_WORK_LEVEL },
        Quotas: {
          ObjectsPerAccount: c.QUOTA_OBJECTS_PER_ACCOUNT,
          BytesPerAccount: c.QUOTA_BYTES_PER_ACCOUNT,
          EscrowBlobsPerAccount: c.QUOTA_ESCROW_PER_ACCOUNT,
          CatalogObjectsPerAccount: c.QUOTA_CATALOG_OBJECTS_PER_ACCOUNT,
          CatalogBytesPerAccount: c.QUOTA_CATALOG_BYTES_PER_ACCOUNT,
        },
        Inbound: {
          ContactProofOfWork: c.INBOUND_CONTACT_POW_LEVEL,
          ContactRequestsPerHour: c.INBOUND_CONTACT_REQUESTS_PER_HOUR,
          MaxEnvelopeBytes: c.INBOUND_MAX_ENVELOPE_BYTES,
          MaxAgeMs: c.INBOUND_MAX_AGE_MS,
        },
      },
    });
  }
}
