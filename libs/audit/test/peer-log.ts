import { encodePart, type LogRecord } from '@cryptomesh/intermesh';
import type { Ed25519 } from '@cryptomesh/log';
import { LogFixture, type FixturePart } from '../../log/testdata/log-fixture';
import { accountRequestEntry, createAccountEntry, type AccountRequest } from '../../mesh/test/fixtures';

/** A peer's log built in memory: parts of real Mesh entries, sealed with a test log key. */
export class PeerLog {
  readonly fixture: LogFixture;
  private nextAccount = 1;

  constructor(
    readonly portal: string,
    readonly origin: string,
    ed25519: Ed25519,
  ) {
    this.fixture = new LogFixture(origin, ed25519);
  }

  get verifierKey() {
    return this.fixture.signer.verifierKey;
  }

  /** `count` fresh accounts' CreateAccount entries, signed at the time of the next seal (± 1 s). */
  async entries(count: number): Promise<Uint8Array[]> {
    const out: Uint8Array[] = [];
    const time = this.fixture.timeMs;
    for (let i = 0; i < count; i++)
      out.push(await createAccountEntry(this.nextAccount++, { time, portal: this.origin }));
    return out;
  }

  /**
   * Account `n`'s (the n-th created by `entries`) later requests, signed at the time of the next seal:
   * a Device Profile update, the account's deletion, a second device's connection, a change of its
   * administrators (fixtures.ts AccountRequest), or its CreateAccount signed again.
   */
  async accountRequest(
    n: number,
    request: AccountRequest | { kind: 'create' },
    nonce = 1,
  ): Promise<Uint8Array> {
    const time = this.fixture.timeMs;
    const portal = this.origin;
    if (request.kind === 'create') return createAccountEntry(n, { time: time + nonce, portal });
    return accountRequestEntry(n, request, { time, nonce, portal });
  }

  /** The number the next account of `entries` gets. */
  get nextAccountNumber(): number {
    return this.nextAccount;
  }

  /** Seals `entries` as the next part. */
  seal(entries: Uint8Array[]): FixturePart {
    return this.fixture.sealPart(entries);
  }

  /** The topic records of a part (entries messages, then the seal). */
  records(part: FixturePart, maxMessageBytes?: number): LogRecord[] {
    const seal = {
      part: part.value.part.index,
      first: part.value.part.first,
      size: part.value.size,
      note: part.seal,
    };
    return [...encodePart(this.portal, seal, part.entries, maxMessageBytes)];
  }
}
