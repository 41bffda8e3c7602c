import canonicalize from 'canonicalize';
import fc from 'fast-check';
import { fromUtf8, utf8 } from '@cryptomesh/crypto/portable';
import { encodeEntry } from '@cryptomesh/log';
import { ACCOUNT, ADMIN, NOW, ORIGIN, PHONE, countingRandom, makeAccount } from '../test/fixtures';
import {
  authoriseRecord,
  buildApplicationProfile,
  buildDeviceProfile,
  canonicalJson,
  decodeRecord,
  encodeRecord,
  requestBodyUdf,
  type RecordContent,
} from '@cryptomesh/mesh';
import type { JsonObject } from './json';
import { keepStatementBytes, takeStatementBytes } from './statement-bytes';

const random = countingRandom(5000);
const authorise = (content: RecordContent) =>
  authoriseRecord(content, ADMIN.signature, { portal: ORIGIN, time: NOW, random }).then(encodeRecord);

/** One entry of each operation, as a log holds them. */
async function entriesOfEveryKind(): Promise<Uint8Array[]> {
  const account = await makeAccount(random);
  const phone = await buildDeviceProfile(
    { encryption: PHONE.encryption, description: 'phone' },
    PHONE.signature,
  );
  const app = await buildApplicationProfile(
    { personal: account.personal.profile.id, type: 'mail', name: 'home', public: { é: '\u{1F600}' } },
    ADMIN.signature,
  );
  return [
    encodeRecord(account.create),
    await authorise({
      operation: 'ConnectComplete',
      account: ACCOUNT,
      personal: account.personal,
      device: phone,
    }),
    await authorise({
      operation: 'Publish',
      account: ACCOUNT,
      action: 'update',
      id: app.profile.id,
      value: app,
    }),
    await authorise({ operation: 'Publish', account: ACCOUNT, action: 'delete', id: app.profile.id }),
    await authorise({ operation: 'MoveAccount', account: ACCOUNT, to: 'beta.test/log' }),
    await authorise({ operation: 'DeleteAccount', account: ACCOUNT }),
  ];
}

/** A string, or an object whose members are all strings: what the cut writes itself. */
const stringsOnly = (value: unknown): boolean =>
  typeof value === 'string' ||
  (typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.values(value).every((member) => typeof member === 'string'));

const withoutAuthorisation = (record: JsonObject): JsonObject =>
  Object.fromEntries(Object.entries(record).filter(([name]) => name !== 'Authorisation'));

describe('the statement cut from its entry (issue #17)', () => {
  it('keeps, for every operation, exactly the JCS bytes of the statement; the request digest is unchanged', async () => {
    for (const entry of await entriesOfEveryKind()) {
      const record = decodeRecord(entry, { keepStatement: true });
      const kept = takeStatementBytes(record.statement);
      expect(kept).toBeDefined();
      expect(fromUtf8(kept!)).toBe(canonicalize(record.statement));
      expect(takeStatementBytes(record.statement)).toBeUndefined(); // given once
      const copy = JSON.parse(JSON.stringify(record.statement)) as object;
      expect(takeStatementBytes(copy)).toBeUndefined();
      const again = decodeRecord(entry, { keepStatement: true });
      expect(requestBodyUdf(again.statement)).toBe(requestBodyUdf(copy));
      expect(takeStatementBytes(again.statement)).toBeUndefined(); // the digest took them
      expect(requestBodyUdf(again.statement)).toBe(requestBodyUdf(copy)); // serialised the second time
    }
  });

  it('keeps nothing unless asked, and freezes the statement it keeps bytes for, every object in it', async () => {
    const [, , publish] = await entriesOfEveryKind();
    const plain = decodeRecord(publish!);
    expect(takeStatementBytes(plain.statement)).toBeUndefined();
    expect(Object.isFrozen(plain.statement)).toBe(false);
    const kept = decodeRecord(publish!, { keepStatement: true });
    expect(Object.isFrozen(kept.statement)).toBe(true);
    expect(Object.isFrozen(kept.statement['Value'])).toBe(true);
    expect(() => {
      (kept.statement as Record<string, unknown>)['Id'] = 'another';
    }).toThrow(TypeError);
  });

  it('agrees with JCS on any record: the cut, when made, is the canonical form of the rest', () => {
    const text = fc.oneof(fc.string({ maxLength: 8 }), fc.string({ maxLength: 4, unit: 'binary' }));
    const value = fc.oneof(fc.jsonValue({ maxDepth: 2 }), text);
    // A JWS-like member (strings only) is written by the cut itself; anything else by `canonicalize`.
    const authorisationValue = fc.oneof(value, fc.dictionary(text, text, { maxKeys: 4 }));
    const key = fc.oneof(text, fc.constantFrom('A', 'Au', 'Authorisatio', 'Authorisationz', 'B', 'é'));
    fc.assert(
      fc.property(fc.dictionary(key, value, { maxKeys: 6 }), authorisationValue, (members, authorisation) => {
        const record = { ...members, Authorisation: authorisation } as JsonObject;
        let entry: Uint8Array;
        try {
          entry = encodeEntry(record);
        } catch {
          return; // not I-JSON (a lone surrogate): never an entry
        }
        const decoded = JSON.parse(fromUtf8(entry)) as JsonObject;
        const statement = withoutAuthorisation(decoded);
        keepStatementBytes(entry, decoded, statement);
        const kept = takeStatementBytes(statement);
        const names = Object.keys(decoded).sort();
        const at = names.indexOf('Authorisation');
        const cuttable =
          at < names.length - 1 && names.slice(0, at + 1).every((name) => stringsOnly(decoded[name]));
        expect(kept !== undefined).toBe(cuttable);
        if (kept !== undefined) expect(kept).toEqual(utf8(canonicalize(statement)!));
      }),
      { numRuns: 1000 },
    );
  });

  it('cuts nothing from a record whose Authorisation is nested thousands deep, and decodes it as before', () => {
    // A hostile log's entry: decodeEntry proves it canonical without recursing that deep, so the
    // cut must not recurse either (it would throw where an auditor without it gives a verdict).
    const deep = `${'['.repeat(3_000)}${']'.repeat(3_000)}`;
    const entry = utf8(
      `{"Account":"${ACCOUNT}","Authorisation":{"payload":${deep},"protected":"x","signature":"y"},"Operation":"DeleteAccount"}`,
    );
    const plain = decodeRecord(entry);
    const record = decodeRecord(entry, { keepStatement: true });
    expect(record).toEqual(plain);
    expect(takeStatementBytes(record.statement)).toBeUndefined();
  });

  it('keeps nothing when the bytes before the statement or the member are not the record’s', async () => {
    const [, , publish] = await entriesOfEveryKind();
    const decoded = JSON.parse(fromUtf8(publish!)) as JsonObject;
    const cases: JsonObject[] = [
      { ...decoded, Account: `${decoded['Account'] as string}X` },
      { ...decoded, Action: 'delete' },
      { ...decoded, Authorisation: { ...(decoded['Authorisation'] as JsonObject), payload: 'AAAA' } },
      withoutAuthorisation(decoded),
    ];
    for (const other of cases) {
      const statement = withoutAuthorisation(other);
      keepStatementBytes(publish!, other, statement);
      expect(takeStatementBytes(statement)).toBeUndefined();
      expect(Object.isFrozen(statement)).toBe(false);
    }
    // And canonicalJson still serialises such a statement itself.
    expect(fromUtf8(canonicalJson(withoutAuthorisation(cases[0]!)))).toBe(
      canonicalize(withoutAuthorisation(cases[0]!)),
    );
  });
});
