import { ClientError, isClientError } from './client-error';
import { MemoryClientStore, type ClientStore } from './client-store';

describe('MemoryClientStore', () => {
  it('reads what was written, undefined when absent, and lists by prefix in order', async () => {
    const store: ClientStore = new MemoryClientStore();
    expect(await store.read('trust.json')).toBeUndefined();
    await store.write('checkpoints/beta.json', 'b');
    await store.write('checkpoints/alpha.json', 'a');
    await store.write('trust.json', 't');
    await store.write('trust.json', 'u');
    expect(await store.read('trust.json')).toBe('u');
    expect(await store.list('checkpoints/')).toEqual(['checkpoints/alpha.json', 'checkpoints/beta.json']);
    await store.remove('checkpoints/alpha.json');
    await store.remove('checkpoints/alpha.json');
    expect(await store.list('')).toEqual(['checkpoints/beta.json', 'trust.json']);
  });

  it('remembers which documents are secrets', async () => {
    const store = new MemoryClientStore();
    await store.write('keys/device.json', '{}', { secret: true });
    await store.write('profile.json', '{}');
    expect(store.documents.get('keys/device.json')?.secret).toBe(true);
    expect(store.documents.get('profile.json')?.secret).toBe(false);
  });
});

describe('ClientError', () => {
  it('carries its code, portal, check, evidence and cause', () => {
    const cause = new Error('low');
    const error = new ClientError('verify.quorum', 'too few', {
      portal: 'alpha',
      check: 'cosignature quorum',
      evidence: { quorum: 2 },
      cause,
    });
    expect(error).toMatchObject({
      name: 'ClientError',
      code: 'verify.quorum',
      portal: 'alpha',
      check: 'cosignature quorum',
    });
    expect(error.evidence).toEqual({ quorum: 2 });
    expect(error.cause).toBe(cause);
    expect(isClientError(error)).toBe(true);
    expect(isClientError(error, 'verify.quorum')).toBe(true);
    expect(isClientError(error, 'verify.inclusion')).toBe(false);
    expect(isClientError(new Error('x'))).toBe(false);
    expect(new ClientError('usage.invalid', 'bad')).not.toHaveProperty('portal');
  });
});
