import type { CatalogAccess } from './catalog-value';
import type { InboundKind } from './inbound-envelope';

/**
 * Access control of the inbound services (000 §3: "the contact catalog is the mediator of inbound
 * requests"; docs/design/inbound.md "Access control"). The same rule is applied by the recipient's
 * portal (over the `Access` members of the stored contact catalog) and by the recipient's client (over
 * its own verified copy), so a portal that lets a stranger through changes nothing the user sees.
 */
export interface InboundSender {
  /** The sender's account UDF. */
  readonly account: string;
  /** The UDF of the sender's Master Profile, as proven by the logs. */
  readonly master: string;
}

export type InboundDecision =
  | {
      readonly ok: true;
      /** True when no allow rule matched: only a contact request gets here, and it needs proof of work. */
      readonly stranger: boolean;
    }
  | {
      readonly ok: false;
      readonly code: 'inbound.blocked' | 'inbound.not-a-contact';
      readonly detail: string;
    };

/** A rule matches when it names the sender's account and, if it names a Master Profile, the sender's. */
export function accessMatches(rule: CatalogAccess, sender: InboundSender): boolean {
  return rule.account === sender.account && (rule.master === undefined || rule.master === sender.master);
}

/**
 * The decision for one inbound item from `sender`, given the recipient's active contact rules:
 * a matching `block` refuses anything; a matching `allow` accepts anything; otherwise only a contact
 * request is accepted, as a stranger's (the caller then demands proof of work and applies the
 * contact-request limits). Pure.
 */
export function decideInbound(
  kind: InboundKind,
  sender: InboundSender,
  rules: readonly CatalogAccess[],
): InboundDecision {
  const matching = rules.filter((rule) => accessMatches(rule, sender));
  if (matching.some((rule) => rule.rule === 'block'))
    return { ok: false, code: 'inbound.blocked', detail: 'the recipient has blocked this sender' };
  if (matching.some((rule) => rule.rule === 'allow')) return { ok: true, stranger: false };
  if (kind === 'contact') return { ok: true, stranger: true };
  return {
    ok: false,
    code: 'inbound.not-a-contact',
    detail: `the sender is not a contact of the recipient: only a contact request may come from a stranger, not a ${kind}`,
  };
}
