import fc from 'fast-check';
import { NonceWindow } from './nonce-window';
import { accountRequestEntry, createAccountEntry, NOW, ORIGIN } from '../test/fixtures';
import {
  decodeAuditedAccount,
  encodeAuditedAccount,
  isMeshError,
  recheckEntry,
  type AuditedAccount,
} from '@cryptomesh/mesh';

/** The state an auditor holds after re-checking `entries` of one account (in order), with no seal time. */
async function audited(entries: Uint8Array[]): Promise<AuditedAccount> {
  let account: AuditedAccount | undefined;
  for (const entry of entries) {
    const result = await recheckEntry(account, entry, { origin: ORIGIN });
    if (!result.ok) throw new Error(`${result.code}: ${result.detail}`);
    account = result.account;
  }
  return account!;
}

/** decode(encode(a), its nonces), through JSON text as the database stores them. */
const roundTrip = (a: AuditedAccount): AuditedAccount =>
  decodeAuditedAccount(
    JSON.parse(JSON.stringify(encodeAuditedAccount(a))),
    JSON.parse(JSON.stringify([...a.nonces])) as Array<[unknown, unknown]>,
  );

describe("encodeAuditedAccount / decodeAuditedAccount (the mirror's stored account state)", () => {
  let created: AuditedAccount;
  let updated: AuditedAccount;
  let deleted: AuditedAccount;

  beforeAll(async () => {
    const create = await createAccountEntry(1);
    const update = (nonce: number) =>
      accountRequestEntry(
        1,
        { kind: 'update-device', description: `v${nonce}` },
        { time: NOW + nonce, nonce },
      );
    created = await audited([create]);
    updated = await audited([create, await update(1), await update(2)]);
    deleted = await audited([
      create,
      await update(1),
      await accountRequestEntry(1, { kind: 'delete' }, { time: NOW + 5, nonce: 5 }),
    ]);
  });

  it('round-trips an account as created, updated (objects, nonces with times) and deleted (the tombstone)', () => {
    for (const account of [created, updated, deleted]) expect(roundTrip(account)).toEqual(account);
    expect(updated.nonces.size).toBe(3);
    expect([...roundTrip(updated).nonces]).toEqual([...updated.nonces]);
    expect(roundTrip(deleted).state.status).toBe('deleted');
    expect([...roundTrip(deleted).state.objects.values()].every((o) => o.status === 'inactive')).toBe(true);
  });

  it('a decoded state re-checks the next entry exactly as the original: a replayed nonce, a resurrected account', async () => {
    const replayed = await accountRequestEntry(
      1,
      { kind: 'update-device', description: 'v2 again' },
      { time: NOW + 2, nonce: 2 },
    );
    const fromStored = await recheckEntry(roundTrip(updated), replayed, { origin: ORIGIN });
    expect(fromStored).toMatchObject({ ok: false, code: 'request.replayed' });
    const again = await recheckEntry(roundTrip(deleted), await createAccountEntry(1), { origin: ORIGIN });
    expect(again).toMatchObject({ ok: false, code: 'account.deleted' });
    const next = await accountRequestEntry(
      1,
      { kind: 'update-device', description: 'v3' },
      { time: NOW + 3, nonce: 3 },
    );
    const [a, b] = await Promise.all([
      recheckEntry(updated, next, { origin: ORIGIN }),
      recheckEntry(roundTrip(updated), next, { origin: ORIGIN }),
    ]);
    expect(b).toEqual(a);
  });

  it('round-trips any status, movedTo and nonce map (property)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('created', 'updated', 'deleted'),
        fc.constantFrom<'active' | 'deleted' | 'moved'>('active', 'deleted', 'moved'),
        fc.option(fc.string({ minLength: 1 }), { nil: undefined }),
        fc.uniqueArray(fc.tuple(fc.string(), fc.maxSafeInteger()), { selector: ([nonce]) => nonce }),
        (base, status, movedTo, nonces) => {
          const from = { created, updated, deleted }[base];
          const account: AuditedAccount = {
            state: { ...from.state, status, ...(movedTo === undefined ? {} : { movedTo }) },
            nonces: NonceWindow.of(nonces),
          };
          const back = roundTrip(account);
          expect(back).toEqual(account);
          expect([...back.nonces]).toEqual(nonces);
          expect(encodeAuditedAccount(back)).toEqual(encodeAuditedAccount(account));
        },
      ),
      { numRuns: 50 },
    );
  });

  it('encodes a profile as the same frozen JWS object every time, so its store serialises it once (issue #17)', () => {
    const first = encodeAuditedAccount(updated);
    const again = encodeAuditedAccount(updated);
    expect(again.master).toBe(first.master);
    expect(again.personal).toBe(first.personal);
    expect(again.objects).toEqual(first.objects);
    const jwsIn = (o: unknown) => (o as Array<[string, unknown]>).map(([, jws]) => jws);
    jwsIn(again.objects).forEach((jws, i) => expect(jws).toBe(jwsIn(first.objects)[i]));
    expect(Object.isFrozen(first.master)).toBe(true);
    // A profile whose JWS changed since (the same object, another signature) is encoded anew.
    const signed = updated.state.master.jws as { signature: string };
    const signature = signed.signature;
    try {
      signed.signature = `${signature}x`;
      const changed = encodeAuditedAccount(updated).master as { signature: string };
      expect(changed).not.toBe(first.master);
      expect(changed.signature).toBe(`${signature}x`);
    } finally {
      signed.signature = signature;
    }
  });

  it("stores no nonce in the state: a busy account's state does not grow with its window (issue #17)", () => {
    const stored = encodeAuditedAccount(updated);
    expect(stored).not.toHaveProperty('nonces');
    expect(decodeAuditedAccount(stored).nonces.size).toBe(0);
  });

  const NONCES: Array<[unknown, unknown]> = [['n', 1]];
  it.each<[string, (o: Record<string, unknown>) => unknown, Array<[unknown, unknown]>?]>([
    ['version 1 (nonces inside; the migration rewrites it)', (o) => ({ ...o, v: 1, nonces: [] })],
    ['another version', (o) => ({ ...o, v: 3 })],
    ['an unknown field', (o) => ({ ...o, extra: 1 })],
    ['an unknown status', (o) => ({ ...o, status: 'gone' })],
    [
      'a master that is not a profile JWS',
      (o) => ({ ...o, master: { protected: 'x', payload: 'y', signature: 'z' } }),
    ],
    ['a personal profile given as the master', (o) => ({ ...o, master: o.personal })],
    ['a nonce time that is not an integer', (o) => o, [['n', 1.5]]],
    ['a nonce that is not a string', (o) => o, [[7, 1]]],
    [
      'a nonce twice',
      (o) => o,
      [
        ['n', 1],
        ['n', 2],
      ],
    ],
    [
      'an object twice',
      (o) => ({ ...o, objects: [...(o.objects as unknown[]), ...(o.objects as unknown[])] }),
    ],
    ['not an object', () => [1, 2]],
  ])('refuses %s with input.invalid', (_name, change, nonces = NONCES) => {
    const stored = JSON.parse(JSON.stringify(encodeAuditedAccount(updated))) as Record<string, unknown>;
    expect(decodeAuditedAccount(stored, NONCES).nonces.size).toBe(1);
    let error: unknown;
    try {
      decodeAuditedAccount(change(stored), nonces);
    } catch (e) {
      error = e;
    }
    expect(isMeshError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'input.invalid' });
  });
});
