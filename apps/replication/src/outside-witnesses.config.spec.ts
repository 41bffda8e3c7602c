import { ConfigError } from '@cryptomesh/service';
import { generateLogKey } from '../../log-signer/src/log-key';
import { loadOutsideWitnesses } from './outside-witnesses.config';
import { generateWitnessKey } from './witness-key';

describe('OUTSIDE_WITNESSES (issue #18)', () => {
  const a = generateWitnessKey('witness.example/a').verifierKey;
  const b = generateWitnessKey('witness.example/b').verifierKey;

  it('is empty when unset, and lists each witness by its key name', () => {
    expect(loadOutsideWitnesses({})).toEqual([]);
    expect(loadOutsideWitnesses({ OUTSIDE_WITNESSES: ' ' })).toEqual([]);
    const witnesses = loadOutsideWitnesses({
      OUTSIDE_WITNESSES: JSON.stringify([
        { url: 'https://a.example/w/', key: a },
        { url: 'http://127.0.0.1:9000', key: b },
      ]),
    });
    expect(witnesses.map((w) => [w.name, w.url, w.key.text])).toEqual([
      ['witness.example/a', 'https://a.example/w', a],
      ['witness.example/b', 'http://127.0.0.1:9000', b],
    ]);
  });

  it.each([
    ['not JSON', '[', /not JSON/],
    ['not an array', '{}', /JSON array/],
    ['a bad URL', JSON.stringify([{ url: 'ftp://x', key: 'k' }]), /\[0\]\.url/],
    ['a bad key', JSON.stringify([{ url: 'https://x', key: 'nope' }]), /\[0\]\.key/],
    [
      'a log key',
      JSON.stringify([{ url: 'https://x', key: generateLogKey('log.example').verifierKey }]),
      /type 0x04/,
    ],
    ['an unknown field', JSON.stringify([{ url: 'https://x', key: 'k', extra: 1 }]), /unknown fields extra/],
    [
      'two witnesses of one name',
      JSON.stringify([
        { url: 'https://x', key: 'K' },
        { url: 'https://y', key: 'K' },
      ]),
      /two witnesses/,
    ],
  ])('refuses %s with one line naming the variable', (_name, value, reason) => {
    const raw = value.replace(/"K"/g, JSON.stringify(a)).replace(/"k"/g, JSON.stringify(a));
    let error: unknown;
    try {
      loadOutsideWitnesses({ OUTSIDE_WITNESSES: raw });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toMatch(/OUTSIDE_WITNESSES/);
    expect((error as ConfigError).message).toMatch(reason);
  });
});
