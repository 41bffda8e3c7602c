import type { InboundRefusalCode } from '@cryptomesh/persistence';
import { GatewayError } from '../protocol/gateway-error';
import { checkCatalogQuota } from './catalog-quota';
import { inboundRefusal } from './inbound-refusal';

describe('the spool admission refusals as gateway answers', () => {
  it.each<[InboundRefusalCode, string, number, string]>([
    ['inbound.stale', 'inbound.invalid', 400, 'inbound.stale'],
    ['inbound.unknown-recipient', 'inbound.unknown-recipient', 404, 'inbound.unknown-recipient'],
    ['inbound.blocked', 'inbound.blocked', 403, 'inbound.blocked'],
    ['inbound.not-a-contact', 'inbound.not-a-contact', 403, 'inbound.not-a-contact'],
    ['inbound.duplicate', 'inbound.duplicate', 409, 'inbound.duplicate'],
    ['inbound.proof-of-work', 'pow.insufficient', 403, 'inbound.proof-of-work'],
    ['inbound.rate-limited', 'rate.limited', 429, 'inbound.rate-limited'],
    ['quota.exceeded', 'quota.exceeded', 413, 'quota.inbound'],
  ])('%s is %s (%i), Reason %s', (code, error, status, reason) => {
    const refusal = inboundRefusal(code, 'why');
    expect(refusal).toBeInstanceOf(GatewayError);
    expect([refusal.code, refusal.httpStatus, refusal.details.reason, refusal.message]).toEqual([
      error,
      status,
      reason,
      'why',
    ]);
  });

  it('a sender beyond the hourly limit is told to wait at most the window (Retry-After)', () => {
    expect(inboundRefusal('inbound.rate-limited', 'x').details.retryAfterSeconds).toBe(3600);
    expect(inboundRefusal('inbound.blocked', 'x').details.retryAfterSeconds).toBeUndefined();
  });
});

describe('the catalog quotas', () => {
  const config = { QUOTA_CATALOG_OBJECTS_PER_ACCOUNT: 3, QUOTA_CATALOG_BYTES_PER_ACCOUNT: 1000 };
  const reasonOf = (fn: () => void): string | undefined => {
    try {
      fn();
      return undefined;
    } catch (error) {
      return (error as GatewayError).details.reason;
    }
  };

  it.each([
    ['a new object up to the quota', { objects: 2, bytes: 100 }, undefined, 100, undefined],
    ['a new object beyond it', { objects: 3, bytes: 100 }, undefined, 10, 'quota.catalog-objects'],
    ['an update at the quota (its row is reused)', { objects: 3, bytes: 100 }, 50, 60, undefined],
    ['bytes up to the quota', { objects: 1, bytes: 900 }, 100, 200, undefined],
    ['bytes beyond it', { objects: 1, bytes: 900 }, 100, 201, 'quota.catalog-bytes'],
    ['a shrink of an account over its quota', { objects: 9, bytes: 5000 }, 400, 100, undefined],
  ])('%s', (_what, usage, oldBytes, newBytes, reason) => {
    expect(reasonOf(() => checkCatalogQuota(usage, oldBytes, newBytes, config))).toBe(reason);
  });

  it('a quota of 0 is no quota', () => {
    const none = { QUOTA_CATALOG_OBJECTS_PER_ACCOUNT: 0, QUOTA_CATALOG_BYTES_PER_ACCOUNT: 0 };
    expect(reasonOf(() => checkCatalogQuota({ objects: 1e6, bytes: 1e9 }, undefined, 1e6, none))).toBe(
      undefined,
    );
  });
});
