import { Inject, Injectable } from '@nestjs/common';
import type { GatewayConfig } from '../gateway.config';
import { GATEWAY_CONFIG } from '../gateway.tokens';
import { GatewayError } from '../protocol/gateway-error';
import { TokenBuckets } from '../protocol/token-bucket';

/**
 * The per-account rate limit (seed 002 §7.6), RATE_LIMIT_ACCOUNT_PER_MINUTE, taken only after a
 * request authenticated (an unauthenticated request cannot spend an account's budget). Kept in
 * memory per gateway instance, like the per-address limit: N instances allow up to N times the
 * rate (docs/design/gateway.md "Abuse limits").
 */
@Injectable()
export class AccountLimits {
  private readonly buckets: TokenBuckets;

  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig) {
    const rate = config.RATE_LIMIT_ACCOUNT_PER_MINUTE;
    this.buckets = new TokenBuckets(rate, Math.max(5, Math.ceil(rate / 6)), Date.now);
  }

  /** Spends one request of `accountUdf`; throws `rate.limited` (429, Retry-After) when none is left. */
  take(accountUdf: string): void {
    const wait = this.buckets.take(accountUdf);
    if (wait > 0)
      throw new GatewayError('rate.limited', `too many requests for this account; retry in ${wait} s`, {
        retryAfterSeconds: wait,
      });
  }
}
