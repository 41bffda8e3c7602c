import type { InboundRefusalCode } from '@cryptomesh/persistence';
import { GatewayError } from '../protocol/gateway-error';

/** How long a sender refused by the hourly contact-request limit waits at most (the window). */
export const CONTACT_WINDOW_SECONDS = 3_600;

/**
 * The gateway's refusal for an inbound item the spool's admission refused (docs/design/inbound.md
 * "Access control"); the admission's code is the answer's `Reason`. A stranger's contact request
 * without (enough) proof of work is `pow.insufficient`, like a CreateAccount's; beyond the hourly
 * limit `rate.limited` (429) with a Retry-After of the window, an upper bound; a full spool is the
 * recipient's quota; an envelope outside the portal's time window is `inbound.invalid`. Pure.
 */
export function inboundRefusal(code: InboundRefusalCode, detail: string): GatewayError {
  switch (code) {
    case 'inbound.stale':
      return new GatewayError('inbound.invalid', detail, { reason: code });
    case 'inbound.unknown-recipient':
    case 'inbound.blocked':
    case 'inbound.not-a-contact':
    case 'inbound.duplicate':
      return new GatewayError(code, detail, { reason: code });
    case 'inbound.proof-of-work':
      return new GatewayError('pow.insufficient', detail, { reason: code });
    case 'inbound.rate-limited':
      return new GatewayError('rate.limited', detail, {
        reason: code,
        retryAfterSeconds: CONTACT_WINDOW_SECONDS,
      });
    case 'quota.exceeded':
      return new GatewayError('quota.exceeded', detail, { reason: 'quota.inbound' });
  }
}
