import { createPublicKey, verify } from 'node:crypto';
import type { VerifyBatch } from '@cryptomesh/audit';
import { encodeEntry } from '@cryptomesh/log';
import { DEFAULT_MAX_SEAL_DELAY_MS, entryProfiles, recheckLog } from '@cryptomesh/mesh';
import { NOW, ORIGIN, accountRequestEntry, createAccountEntry } from '../../../libs/mesh/test/fixtures';
import { RecordRules, backfillAccountStates } from './record-rules';
import type { AccountStateRow, AccountStateStore } from './signer-store';

/**
 * An in-memory `AccountStateStore` with the contract of the PostgreSQL one (the states and the checked
 * size move together, from where they ended), over an in-memory log for the backfill.
 */
class MemoryStates implements AccountStateStore {
  readonly rows = new Map<string, { state: unknown; through: number }>();
  /** Nonce rows by account, written and forgotten as the log_nonces statements do. */
  readonly nonces = new Map<string, Map<string, number>>();
  size = 0;
  constructor(readonly log: Uint8Array[] = []) {}
  checkedSize(): Promise<number> {
    return Promise.resolve(this.size);
  }
  accountState(account: string) {
    const row = this.rows.get(account);
    return Promise.resolve(
      row === undefined ? undefined : { ...row, nonces: [...(this.nonces.get(account) ?? [])] },
    );
  }
  checkAccounts(first: number, end: number, states: readonly AccountStateRow[]): Promise<void> {
    if (first !== this.size) return Promise.reject(new Error('rules.out-of-step'));
    this.store(end, states);
    return Promise.resolve();
  }
  store(end: number, states: readonly AccountStateRow[]): void {
    for (const row of states) {
      this.rows.set(row.account, { state: row.state, through: row.through });
      const nonces = this.nonces.get(row.account) ?? new Map<string, number>();
      for (const [nonce, time] of row.nonces) nonces.set(nonce, time);
      for (const [nonce, time] of nonces)
        if (row.forgetBefore !== undefined && time < row.forgetBefore) nonces.delete(nonce);
      this.nonces.set(row.account, nonces);
    }
    this.size = end;
  }
  entries(begin: number, end: number): Promise<Uint8Array[]> {
    return Promise.resolve(this.log.slice(begin, end));
  }
}

/**
 * Runs `check` as the sequencing transaction does: refused entries get no index, states are stored;
 * and checks that the profiles it gives for the accepted entries (indexed without decoding them
 * again) are what decoding each entry gives.
 */
async function sequence(rules: RecordRules, store: MemoryStates, entries: Uint8Array[], now = NOW) {
  const verdicts = await rules.check(entries, store.log.length, now);
  const accepted = entries.filter((_, i) => !verdicts.refused.has(i));
  expect([...verdicts.profiles.keys()]).toEqual(
    entries.flatMap((_, i) => (verdicts.refused.has(i) ? [] : [i])),
  );
  for (const [position, profiles] of verdicts.profiles)
    expect(profiles).toEqual(entryProfiles(entries[position]!));
  store.log.push(...accepted);
  store.store(store.log.length, verdicts.states);
  rules.commit();
  return [...verdicts.refused].map(([position, reason]) => [position, reason.split(':')[0]]);
}

describe('RecordRules: the log-signer re-checks each queued record as every auditor will (#15)', () => {
  it('seals what the gateway accepted, and refuses what a compromised gateway queued beyond it', async () => {
    const store = new MemoryStates();
    const rules = new RecordRules(store, { origin: ORIGIN });
    const create11 = await createAccountEntry(11);
    const update = await accountRequestEntry(
      11,
      { kind: 'update-device', description: 'v2' },
      { time: NOW, nonce: 1 },
    );
    expect(await sequence(rules, store, [create11, update, await createAccountEntry(12)])).toEqual([]);

    const refused = await sequence(rules, store, [
      update, // the same request again: its nonce was seen
      create11, // the account exists
      await accountRequestEntry(13, { kind: 'delete' }, { time: NOW, nonce: 1 }), // no such account
      await createAccountEntry(14, { portal: 'beta.test/log' }), // signed for another portal
      await accountRequestEntry(
        12,
        { kind: 'delete' },
        { time: NOW - DEFAULT_MAX_SEAL_DELAY_MS - 600_000, nonce: 1 },
      ),
      await accountRequestEntry(11, { kind: 'delete' }, { time: NOW, nonce: 2, deviceSeed: 9 }), // not its device
      encodeEntry({ op: 'test', n: 1 }), // a log entry, not a record
      await accountRequestEntry(12, { kind: 'delete' }, { time: NOW, nonce: 2 }), // fine
    ]);
    expect(refused).toEqual([
      [0, 'request.replayed'],
      [1, 'account.exists'],
      [2, 'account.unknown'],
      [3, 'request.wrong-portal'],
      [4, 'request.stale'],
      [5, expect.stringMatching(/^request\./)],
      [6, 'record.malformed'],
    ]);
    // What was sealed re-checks as a whole, exactly as a peer's auditor reads the log.
    expect(await recheckLog(store.log, { origin: ORIGIN })).toMatchObject({ ok: true });
    expect(store.log).toHaveLength(4);
  });

  it('refuses the second of two conflicting records within one batch (states staged in order)', async () => {
    const store = new MemoryStates();
    const rules = new RecordRules(store, { origin: ORIGIN });
    const create = await createAccountEntry(4);
    const del = await accountRequestEntry(4, { kind: 'delete' }, { time: NOW, nonce: 1 });
    const again = await accountRequestEntry(4, { kind: 'delete' }, { time: NOW, nonce: 2 });
    expect(await sequence(rules, store, [create, del, again])).toEqual([[2, 'account.deleted']]);
    // One account, its state after its last accepted entry (the deletion at index 1).
    expect([...store.rows.values()]).toEqual([
      { state: expect.objectContaining({ status: 'deleted' }) as unknown, through: 1 },
    ]);
  });

  it('forgets what a batch staged when its transaction did not commit', async () => {
    const store = new MemoryStates();
    const rules = new RecordRules(store, { origin: ORIGIN });
    const create = await createAccountEntry(5);
    await rules.check([create], 0, NOW);
    rules.discard(); // the sequencing transaction rolled back: nothing is stored
    expect(await sequence(rules, store, [create])).toEqual([]);
  });

  it('starts from the stored states, not from memory: a new leadership refuses the same replays', async () => {
    const store = new MemoryStates();
    const update = await accountRequestEntry(
      6,
      { kind: 'update-device', description: 'x' },
      { time: NOW, nonce: 1 },
    );
    await sequence(new RecordRules(store, { origin: ORIGIN }), store, [await createAccountEntry(6), update]);
    const next = new RecordRules(store, { origin: ORIGIN, capacity: 1 });
    expect(await sequence(next, store, [update])).toEqual([[0, 'request.replayed']]);
  });

  it('backfills the states of a log sealed before them, and reports a sealed entry that breaks a rule', async () => {
    const create = await createAccountEntry(7);
    const update = await accountRequestEntry(
      7,
      { kind: 'update-device', description: 'y' },
      { time: NOW, nonce: 1 },
    );
    // A log sealed before the states existed, one entry of which no auditor accepts (a replay).
    const store = new MemoryStates([create, update, await createAccountEntry(8), update]);
    const rules = new RecordRules(store, { origin: ORIGIN });
    const backfilled = await backfillAccountStates(store, rules, 4, 3);
    expect(backfilled).toMatchObject({ rechecked: 4, violations: 1, first: [{ index: 3 }] });
    expect(backfilled.first[0]!.reason).toMatch(/^request\.replayed/);
    expect(store.size).toBe(4);
    // Resumes where it ended: nothing more to do; and the stored states refuse the replay again.
    expect(await backfillAccountStates(store, rules, 4, 3)).toMatchObject({ rechecked: 0, violations: 0 });
    expect(await sequence(new RecordRules(store, { origin: ORIGIN }), store, [update])).toEqual([
      [0, 'request.replayed'],
    ]);
  });
});

describe('RecordRules with signature workers (issue #17)', () => {
  /** A worker pool stand-in: OpenSSL's verdict on exactly the bytes, answered asynchronously. */
  const verifyBatch: VerifyBatch = async (checks) => {
    await new Promise((r) => setImmediate(r));
    return checks.map((c) => {
      const spki = Buffer.from(
        c.algorithm === 'Ed25519' ? '302a300506032b6570032100' : '3043300506032b6571033a00',
        'hex',
      );
      const key = createPublicKey({ key: Buffer.concat([spki, c.publicKey]), format: 'der', type: 'spki' });
      return verify(null, c.message, key, c.signature);
    });
  };

  /** An entry whose request signature has a bit of S flipped (S stays below L: only verification refuses it). */
  function forged(entry: Uint8Array): Uint8Array {
    const record = JSON.parse(new TextDecoder().decode(entry)) as { Authorisation: { signature: string } };
    const s = record.Authorisation.signature;
    record.Authorisation.signature = `${s.slice(0, 44)}${s[44] === 'A' ? 'B' : 'A'}${s.slice(45)}`;
    return new TextEncoder().encode(JSON.stringify(record));
  }

  it('refuses and stages exactly what the in-thread check does, a forged signature included', async () => {
    const batch = async () => [
      await createAccountEntry(21),
      await accountRequestEntry(21, { kind: 'update-device', description: 'v2' }, { time: NOW, nonce: 1 }),
      forged(
        await accountRequestEntry(21, { kind: 'update-device', description: 'v3' }, { time: NOW, nonce: 2 }),
      ),
      await accountRequestEntry(21, { kind: 'update-device', description: 'v4' }, { time: NOW, nonce: 3 }),
      forged(await createAccountEntry(22)),
    ];
    const inThread = new MemoryStates();
    const pooled = new MemoryStates();
    const expected = await sequence(new RecordRules(inThread, { origin: ORIGIN }), inThread, await batch());
    const seen = await sequence(
      new RecordRules(pooled, { origin: ORIGIN, verifyBatch }),
      pooled,
      await batch(),
    );
    expect(expected).toEqual([
      [2, 'request.bad-signature'],
      [4, 'request.bad-signature'],
    ]);
    expect(seen).toEqual(expected);
    expect(pooled.log).toEqual(inThread.log);
    expect([...pooled.rows]).toEqual([...inThread.rows]);
    expect([...pooled.nonces]).toEqual([...inThread.nonces]);
  });

  it('fails the batch, judging nothing, when a worker crashed', async () => {
    const store = new MemoryStates();
    const crashed: VerifyBatch = () => Promise.reject(new Error('signature worker 0 exited with code 1'));
    const rules = new RecordRules(store, { origin: ORIGIN, verifyBatch: crashed });
    await expect(rules.check([await createAccountEntry(23)], 0, NOW)).rejects.toThrow('exited');
  });
});
