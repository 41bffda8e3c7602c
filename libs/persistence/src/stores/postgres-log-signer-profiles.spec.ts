import type { Client } from 'pg';
import type { AccountStateRecord } from '@cryptomesh/audit';
import { PostgresLogSignerSession } from './postgres-log-signer.store';

/**
 * The log-signer leaves out of its inserts only the state profiles a transaction of its session
 * committed (`CommittedProfiles`, docs/design/federation.md "Stored account states"). A statement
 * runner stands in for PostgreSQL here, to fail a COMMIT; the stores run against the real one in
 * the integration suites (log-signer-rules.spec.ts).
 */
describe('PostgresLogSignerSession: profiles committed are not sent again (issue #17)', () => {
  const jws = (tag: string) => ({ protected: `h-${tag}`, payload: `p-${tag}`, signature: `s-${tag}` });
  const state = (account: string, app: string): AccountStateRecord => ({
    account,
    state: {
      v: 2,
      account,
      status: 'active',
      master: jws(`m-${account}`),
      personal: jws('p'),
      objects: [['app', jws(app)]],
    },
    through: 0,
    nonces: [],
  });

  /** A session over a client whose COMMIT fails while `failCommit` is set; `sent`: each insert's profiles. */
  function session() {
    const sent: string[][] = [];
    const control = { failCommit: false };
    const client = {
      query: (sql: string, params: unknown[] = []) => {
        if (sql === 'COMMIT' && control.failCommit) return Promise.reject(new Error('the commit failed'));
        if (sql.startsWith('UPDATE log_account_states_state'))
          return Promise.resolve({ rows: [{ checked_size: String(params[1]) }] });
        if (sql.startsWith('UPDATE log_profile_index_state'))
          return Promise.resolve({ rows: [{ indexed_size: String(params[1]) }] });
        if (sql.includes('FROM log_queue ORDER BY seq LIMIT $1 FOR UPDATE'))
          return Promise.resolve({
            rows: [{ seq: '1', entry: Buffer.from('{}'), request_id: null, queued_ms: 0 }],
          });
        if (sql.includes('INSERT INTO log_account_profiles'))
          sent.push(
            (params[1] as string[]).map((body) => (JSON.parse(body) as { payload: string }).payload).sort(),
          );
        return Promise.resolve({ rows: [] });
      },
    };
    return { session: new PostgresLogSignerSession(client as unknown as Client), sent, control };
  }

  it('sends a profile again until the transaction that wrote it committed, then no more', async () => {
    const { session: s, sent, control } = session();
    control.failCommit = true;
    await expect(s.checkAccounts(0, 1, [state('a', 'v1')])).rejects.toThrow('the commit failed');
    control.failCommit = false;
    await s.checkAccounts(0, 1, [state('a', 'v1')]);
    await s.checkAccounts(1, 2, [state('a', 'v2'), state('b', 'v2')]);
    expect(sent).toEqual([
      ['p-m-a', 'p-p', 'p-v1'], // the COMMIT failed: nothing is known stored
      ['p-m-a', 'p-p', 'p-v1'], // so all of it again, committed this time
      ['p-m-b', 'p-v2'], // only what is new
    ]);
  });

  it('a new session (a new leader, a reconnect) knows of nothing, and sends it all again', async () => {
    const first = session();
    await first.session.checkAccounts(0, 1, [state('a', 'v1')]);
    const next = session();
    await next.session.checkAccounts(1, 2, [state('a', 'v1')]);
    expect(next.sent).toEqual([['p-m-a', 'p-p', 'p-v1']]);
  });

  it('sequencing: the same, for the states a batch stores with its entries', async () => {
    const { session: s, sent, control } = session();
    const batch = (first: number, states: AccountStateRecord[]) => () => ({
      first,
      leafHashes: [new Uint8Array(32)],
      nodes: [],
      profiles: [undefined],
      accountStates: states,
    });
    control.failCommit = true;
    await expect(s.sequence(10, batch(0, [state('a', 'v1')]))).rejects.toThrow('the commit failed');
    control.failCommit = false;
    await s.sequence(10, batch(0, [state('a', 'v1')]));
    await s.sequence(10, batch(1, [state('a', 'v2')]));
    expect(sent).toEqual([['p-m-a', 'p-p', 'p-v1'], ['p-m-a', 'p-p', 'p-v1'], ['p-v2']]);
  });
});
