/**
 * The values of the WEBHOOK_CHANNELS setting (directory.ts's ChannelPolicy says what each allows) and the check of
 * a webhook URL against one, with no schema: every function reads the setting through shared/platform/config.ts,
 * and the notifier checks each URL it sends to; importing them from here keeps the directory's schemas out of
 * their cold start (directory.ts re-exports channelProblem).
 */
export const channelPolicies = ['https-only', 'allow-loopback-http'] as const;
type ChannelPolicy = (typeof channelPolicies)[number];

function ipv4Octets(host: string): number[] | undefined {
  const parts = host.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p))) return undefined;
  const octets = parts.map(Number);
  return octets.every((o) => o <= 255) ? octets : undefined;
}

/** The kind of address an IP-literal host is, when it is one a webhook must never reach; undefined otherwise. */
function internalAddress(hostname: string): 'loopback' | 'other' | undefined {
  const host = hostname.toLowerCase().replace(/^\[|\]$/g, '');
  if (host === 'localhost' || host.endsWith('.localhost')) return 'loopback';
  const v4 = ipv4Octets(host);
  if (v4) {
    const [a = 0, b = 0] = v4;
    if (a === 127) return 'loopback';
    if (a === 0 || a === 10 || (a === 169 && b === 254) || (a === 172 && b >= 16 && b <= 31)) return 'other';
    if (a === 192 && b === 168) return 'other';
    return undefined;
  }
  if (!host.includes(':')) return undefined;
  if (host === '::1') return 'loopback';
  if (host === '::') return 'other';
  // An IPv4-mapped address (::ffff:a.b.c.d; the URL parser writes it in hex) is judged as the IPv4 address.
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(host);
  if (mapped) {
    const [hi, lo] = [parseInt(mapped[1] ?? '0', 16), parseInt(mapped[2] ?? '0', 16)];
    return internalAddress(`${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`) ?? undefined;
  }
  const first = parseInt(host.split(':')[0] || '0', 16);
  if ((first & 0xffc0) === 0xfe80) return 'other'; // fe80::/10, link-local
  if ((first & 0xfe00) === 0xfc00) return 'other'; // fc00::/7, unique local (private)
  return undefined;
}

/**
 * Why a webhook URL is refused under a channel policy, or undefined if it is allowed. Names the rule, never the
 * URL, so it can be audited and answered as it stands.
 */
export function channelProblem(url: string, policy: ChannelPolicy): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'must be an absolute URL';
  }
  const protocol = parsed.protocol;
  if (protocol !== 'https:' && protocol !== 'http:') return 'must be an https URL';
  const internal = internalAddress(parsed.hostname);
  const loopbackAllowed = policy === 'allow-loopback-http' && internal === 'loopback';
  if (protocol === 'http:' && !loopbackAllowed)
    return policy === 'allow-loopback-http'
      ? 'must be an https URL (plain http only to a loopback host in this deployment)'
      : 'must be an https URL';
  if (internal && !loopbackAllowed)
    return 'must not name a loopback, link-local, private or unspecified address, nor localhost';
  return undefined;
}
