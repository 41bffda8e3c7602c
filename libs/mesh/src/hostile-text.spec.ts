import { accountUdf } from '@cryptomesh/crypto/portable';
import { encodeEntry } from '@cryptomesh/log';
import { ACCOUNT, ADMIN } from '../test/fixtures';
import {
  CATALOG_VALUE_TYPE,
  decodeRecord,
  INBOUND_ENVELOPE_TYPE,
  readCatalogValue,
  readEnvelope,
  recheckEntry,
} from './index';
import { signPayload } from './profile-envelope';
import { MeshError } from './mesh-error';

/**
 * Text from a hostile peer's entry (or a compromised gateway's queued row) that PostgreSQL cannot
 * store: a NUL in `text` or `jsonb`, an over-long indexed key. The readers refuse it where they read
 * it, and every message quotes such text escaped, so a finding or a refusal reason can be stored
 * (docs/decisions.md "What a store keys by has one form").
 */
const record = (fields: Record<string, unknown>) =>
  encodeEntry({ Account: ACCOUNT, Authorisation: {}, Operation: 'DeleteAccount', ...fields });

function malformed(entry: Uint8Array): string {
  try {
    decodeRecord(entry);
  } catch (error) {
    if (error instanceof MeshError) return error.code;
    throw error;
  }
  return 'accepted';
}

describe('hostile text in a record', () => {
  it.each([
    ['a NUL', `${ACCOUNT}\u0000`],
    ['3,000 characters', 'A'.repeat(3_000)],
    ['lower case (another spelling of the same UDF)', ACCOUNT.toLowerCase()],
    ['no dashes', ACCOUNT.replace(/-/g, '')],
    ['an address', 'alice@example.com'],
  ])('refuses an Account holding %s (record.malformed)', (_what, account) => {
    expect(malformed(record({ Account: account }))).toBe('record.malformed');
  });

  it('refuses a Publish Id that is no UDF, and a MoveAccount To holding a control character', () => {
    const publish = { Operation: 'Publish', Action: 'delete', Id: 'x\u0000' };
    expect(malformed(record(publish))).toBe('record.malformed');
    expect(malformed(record({ ...publish, Id: ACCOUNT }))).toBe('accepted');
    for (const to of ['beta.example/log\u0000', 'beta\u001b[2J', 'beta\u0085'])
      expect(malformed(record({ Operation: 'MoveAccount', To: to }))).toBe('record.malformed');
    expect(malformed(record({ Operation: 'MoveAccount', To: 'beta.example/log' }))).toBe('accepted');
  });

  it('quotes what it refuses escaped: the detail of a verdict holds no NUL', async () => {
    const entries = [
      record({ Operation: 'Publish', Action: 'x\u0000', Id: ACCOUNT }),
      encodeEntry({
        ['\u{1f600}\u0000']: 1,
        Account: ACCOUNT,
        Authorisation: {},
        Operation: 'DeleteAccount',
      }),
    ];
    for (const entry of entries) {
      const verdict = await recheckEntry(undefined, entry, { origin: 'alpha.test/log' });
      expect(verdict).toMatchObject({ ok: false, code: 'record.malformed' });
      const detail = (verdict as { detail: string }).detail;
      expect(detail).toContain('\\u0000');
      expect(detail).not.toContain('\u0000');
    }
  });
});

describe('hostile text in an inbound envelope or a catalog value', () => {
  // Signed by a device, as a sender or an account's own device would: only the form is wrong.
  const signed = (payload: object, type: string) => signPayload(payload, type, ADMIN.signature);

  it('refuses an envelope whose sender or recipient is no UDF', async () => {
    const fields = {
      Kind: 'message',
      Id: 'AAAAAAAAAAAAAAAAAAAAAA',
      FromAccount: ACCOUNT,
      FromMaster: accountUdf('master.a@example.com'),
      ToAccount: accountUdf('bob@example.com'),
      ToMaster: accountUdf('master.b@example.com'),
      Created: 1,
      Body: { recipients: [], ciphertext: '' },
    };
    for (const field of ['FromAccount', 'FromMaster', 'ToAccount', 'ToMaster']) {
      const envelope = await signed({ ...fields, [field]: 'MALLORY\u0000' }, INBOUND_ENVELOPE_TYPE);
      expect(() => readEnvelope(envelope)).toThrow(new RegExp(`"${field}" is not a UDF`));
    }
  });

  it('refuses a catalog value whose Account, or whose Access names an Account or Master, is no UDF', async () => {
    const fields = { Account: ACCOUNT, Catalog: 'contact', Id: 'A'.repeat(43), Sequence: 1, Created: 1 };
    const access = { Account: ACCOUNT, Master: accountUdf('master.b@example.com'), Rule: 'allow' };
    for (const [change, field] of [
      [{ Account: 'x\u0000' }, 'Account'],
      [{ Access: { ...access, Account: 'A'.repeat(3_000) } }, 'Account'],
      [{ Access: { ...access, Master: 'M\u0000' } }, 'Master'],
    ] as const) {
      const value = await signed({ ...fields, ...change }, CATALOG_VALUE_TYPE);
      expect(() => readCatalogValue(value)).toThrow(new RegExp(`"${field}" is not a UDF`));
    }
  });
});
