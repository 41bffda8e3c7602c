import { nodeEd25519 } from '@cryptomesh/crypto';
import { applyRecord, decodeRecord, type AccountState } from '@cryptomesh/mesh';
import { accountRequestEntry, createAccountEntry, NOW, ORIGIN } from '../../../../libs/mesh/test/fixtures';
import { inThreadSignatures } from './record-committer';

/**
 * Where the gateway verifies a logged record's signatures (issue #17, docs/design/gateway.md): a
 * record of at most two by OpenSSL in its thread, CreateAccount and ConnectComplete through jose.
 */
describe('inThreadSignatures: which records the gateway verifies in its own thread', () => {
  let created: AccountState;
  const clock = { now: NOW + 10 };

  beforeAll(async () => {
    const record = decodeRecord(await createAccountEntry(1));
    created = await applyRecord(
      undefined,
      record,
      { origin: ORIGIN, ...inThreadSignatures(record) },
      {
        now: NOW,
      },
    );
  });

  afterEach(() => jest.restoreAllMocks());

  it('verifies a Publish and a DeleteAccount with OpenSSL in the thread, each signature once', async () => {
    for (const [request, checks] of [
      [{ kind: 'update-device', description: 'v2' }, 2],
      [{ kind: 'delete' }, 1],
    ] as const) {
      const record = decodeRecord(await accountRequestEntry(1, request, { time: NOW + 1, nonce: 7 }));
      const verify = jest.spyOn(nodeEd25519, 'verify');
      await applyRecord(created, record, { origin: ORIGIN, ...inThreadSignatures(record) }, clock);
      expect(verify).toHaveBeenCalledTimes(checks);
      verify.mockRestore();
    }
  });

  it('leaves CreateAccount and ConnectComplete, which carry many signatures, to jose', async () => {
    const verify = jest.spyOn(nodeEd25519, 'verify');
    const create = decodeRecord(await createAccountEntry(2));
    expect(inThreadSignatures(create)).toEqual({});
    await applyRecord(undefined, create, { origin: ORIGIN, ...inThreadSignatures(create) }, { now: NOW });
    const connect = decodeRecord(
      await accountRequestEntry(1, { kind: 'connect' }, { time: NOW + 1, nonce: 8 }),
    );
    expect(connect.operation).toBe('ConnectComplete');
    expect(inThreadSignatures(connect)).toEqual({});
    expect(verify).not.toHaveBeenCalled();
  });
});
