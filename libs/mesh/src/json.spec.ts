import { contentDigestUdf } from '@cryptomesh/crypto/portable';
import { JsonReader } from './json';
import { isMeshError } from './mesh-error';

const udfOf = (reader: JsonReader, name: string): string | Error => {
  try {
    return reader.udf(name);
  } catch (error) {
    if (isMeshError(error)) return error;
    throw error;
  }
};

describe('JsonReader.udf', () => {
  const canonical = contentDigestUdf(new Uint8Array([1, 2, 3]), 'text/plain');
  const read = (text: unknown) =>
    udfOf(JsonReader.object({ Account: text }, 'the record', 'record.malformed'), 'Account');

  it('takes a UDF in its canonical form, as often as it is read', () => {
    for (let i = 0; i < 3; i++) expect(read(canonical)).toBe(canonical);
  });

  it('refuses every other spelling of a UDF it has taken, before and after taking it', () => {
    const others = [
      canonical.toLowerCase(),
      canonical.replace(/-/g, ''),
      `${canonical}-`,
      canonical.replace('-', '--'),
    ];
    for (const text of others) expect(read(text)).toMatchObject({ code: 'record.malformed' });
    expect(read(canonical)).toBe(canonical);
    for (const text of others) expect(read(text)).toMatchObject({ code: 'record.malformed' });
  });

  it('refuses what is not a UDF, every time', () => {
    for (const text of ['', 'not a udf', 'A'.repeat(201), 42, null])
      for (let i = 0; i < 2; i++) expect(read(text)).toBeInstanceOf(Error);
  });
});
