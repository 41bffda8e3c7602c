import { recoverSecret, splitSecret } from '@cryptomesh/crypto/portable';
import { buildMasterProfile } from '@cryptomesh/mesh';
import { MemoryClientStore } from './client-store';
import { generateDeviceKeys, generateMasterKey } from './device-keys';
import { escrowKeyPair, openEscrow, recoverEscrow, sealEscrow, type EscrowContent } from './escrow';
import { GatewayClient } from './gateway-client';
import type { FetchLike } from './portal-http';
import { MeshProfileManager } from './profile-manager';
import { failure } from '../test/client-failure';

/** A gateway that answers Hello, EscrowPut (authentication not checked here) and EscrowGet from memory. */
function fakeEscrowGateway() {
  const blobs = new Map<string, string>();
  const answer = (name: string, status: number, fields: object) =>
    new Response(
      JSON.stringify({ [`${name}Response`]: { Status: status, StatusDescription: 'x', ...fields } }),
      {
        status,
      },
    );
  const fetchImpl: FetchLike = (_url, init) => {
    const request = JSON.parse(init?.body as string) as Record<string, { Key?: string; Blob?: string }>;
    const [member, body] = Object.entries(request)[0]!;
    const name = member.replace(/Request$/, '');
    if (name === 'Hello')
      return Promise.resolve(
        answer(name, 200, {
          Version: '0',
          PortalId: 'alpha',
          Origin: 'alpha.example/log',
          VerifierKey: 'k',
          Policy: { MaxRequestBytes: 65536, MaxProfileBytes: 32768, ProofOfWork: { Level: 0 } },
        }),
      );
    if (name === 'EscrowPut') {
      if (blobs.has(body.Key!)) return Promise.resolve(answer(name, 409, { Error: 'persistence.conflict' }));
      blobs.set(body.Key!, body.Blob!);
      return Promise.resolve(answer(name, 200, { Key: body.Key }));
    }
    if (name === 'EscrowGet') {
      const blob = blobs.get(body.Key!);
      return Promise.resolve(
        blob === undefined
          ? answer(name, 404, { Error: 'not-found' })
          : answer(name, 200, { Key: body.Key, Blob: blob }),
      );
    }
    return Promise.resolve(answer(name, 404, { Error: 'request.unknown-transaction' }));
  };
  return { fetchImpl, blobs };
}

async function content(): Promise<EscrowContent> {
  const masterKey = generateMasterKey();
  const recovery = generateDeviceKeys();
  const master = await buildMasterProfile({ administrators: [recovery.signature], created: 1 }, masterKey);
  return { account: 'alice@example.com', masterKey, recovery, master };
}

describe('offline escrow', () => {
  it('encrypts under a 256-bit key, stores under its UDF, and any K of N shares get it back', async () => {
    const escrowed = await content();
    const secret = crypto.getRandomValues(new Uint8Array(32));
    const sealed = await sealEscrow(escrowed, secret);
    expect(sealed.key).toBe(escrowKeyPair(secret).key);
    expect(sealed.blob).not.toContain('alice');

    const { fetchImpl } = fakeEscrowGateway();
    const gateway = new GatewayClient('https://alpha.example', fetchImpl);
    await gateway.send('EscrowPut', { Key: sealed.key, Blob: sealed.blob });

    const shares = splitSecret(secret, { threshold: 3, shares: 5 });
    expect(shares.every((s) => s.startsWith('S'))).toBe(true); // type 144: the share UDFs of the draft
    for (const subset of [
      [0, 1, 2],
      [4, 2, 0],
      [1, 3, 4],
      [0, 1, 2, 3, 4],
    ]) {
      const recovered = recoverSecret(subset.map((i) => shares[i]!));
      const fetched = await gateway.send('EscrowGet', { Key: escrowKeyPair(recovered).key });
      const opened = await openEscrow(fetched.Blob as string, recovered, gateway.portal);
      expect(opened.account).toBe('alice@example.com');
      expect(opened.masterKey).toEqual(escrowed.masterKey);
      expect(opened.recovery).toEqual(escrowed.recovery);
      expect(opened.master.jws).toEqual(escrowed.master.jws);
    }
  });

  it('does not open with another key, nor a blob that is not an escrow (verify.answer)', async () => {
    const secret = crypto.getRandomValues(new Uint8Array(32));
    const sealed = await sealEscrow(await content(), secret);
    const other = crypto.getRandomValues(new Uint8Array(32));
    expect((await failure(openEscrow(sealed.blob, other))).code).toBe('verify.answer');
    expect((await failure(openEscrow('!!', secret))).code).toBe('verify.answer');
    const forged = await content();
    const mismatched = await sealEscrow({ ...forged, master: (await content()).master }, secret);
    expect((await failure(openEscrow(mismatched.blob, secret))).message).toContain('another Master Profile');
  });

  describe('recoverEscrow refuses a wrong set of shares with usage.invalid', () => {
    const setUp = async () => {
      const { fetchImpl } = fakeEscrowGateway();
      const secret = crypto.getRandomValues(new Uint8Array(32));
      const sealed = await sealEscrow(await content(), secret);
      await new GatewayClient('https://alpha.example', fetchImpl).send('EscrowPut', {
        Key: sealed.key,
        Blob: sealed.blob,
      });
      const manager = new MeshProfileManager(new MemoryClientStore(), { fetchImpl });
      return { manager, shares: splitSecret(secret, { threshold: 2, shares: 3 }) };
    };
    const recover = (manager: MeshProfileManager, shares: string[]) =>
      failure(recoverEscrow(manager, shares, { gatewayUrl: 'https://alpha.example' }));

    it('too few shares, a duplicate, a corrupt share', async () => {
      const { manager, shares } = await setUp();
      for (const set of [[shares[0]!], [shares[1]!, shares[1]!], [shares[0]!, 'SAQB-NOTA-SHARE'], []]) {
        const error = await recover(manager, set);
        expect(error).toMatchObject({ code: 'usage.invalid', check: 'escrow shares' });
      }
    });

    it('shares of two different escrows, which combine to a key that names no blob', async () => {
      const { manager, shares } = await setUp();
      const stranger = splitSecret(crypto.getRandomValues(new Uint8Array(32)), { threshold: 2, shares: 3 });
      const error = await recover(manager, [shares[0]!, stranger[1]!]);
      expect(error).toMatchObject({ code: 'usage.invalid', check: 'escrow shares', portal: 'alpha' });
      expect(error.message).toContain('wrong or mixed set of shares');
    });

    it('a home that already holds a profile', async () => {
      const { manager, shares } = await setUp();
      await manager.store.write('profile.json', '{}');
      expect((await recover(manager, shares)).message).toContain('fresh home');
    });
  });
});
