import { isIP } from 'node:net';

/**
 * The source a client address counts as, for the per-address cap of pending connection requests
 * (issue #15): an IPv4 address itself (an IPv4-mapped IPv6 address as its IPv4 address), an IPv6
 * address by its /64 — one subscriber or host usually holds a whole /64, so counting single IPv6
 * addresses would let it pose as 2⁶⁴ sources. Anything else (no address known) is returned as is.
 */
export function clientSource(address: string): string {
  const bare = address.replace(/%.*$/, '');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare);
  if (mapped !== null && isIP(mapped[1]!) === 4) return mapped[1]!;
  if (isIP(bare) !== 6) return bare;
  const groups = expandIpv6(bare);
  return `${groups.slice(0, 4).join(':')}::/64`;
}

/** The eight 16-bit groups of a valid IPv6 address, lower-case, without leading zeros. */
function expandIpv6(address: string): string[] {
  let text = address.toLowerCase();
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4 !== null) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = tail === undefined ? [] : Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...zeros, ...right].map((g) => parseInt(g, 16).toString(16));
}
