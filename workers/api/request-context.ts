import type { Context } from 'hono';
import type { AppBindings } from './app.ts';

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const IPV6 = /^[0-9a-fA-F:]+(:(\d{1,3}\.){3}\d{1,3})?$/;

/**
 * The client's IP as Cloudflare reports it (`CF-Connecting-IP`, which the edge sets and a client
 * cannot forge in production), or null when absent or not an IP address.
 */
export function clientIp(c: Context<AppBindings>): string | null {
  const value = c.req.header('CF-Connecting-IP')?.trim();
  if (!value) return null;
  return IPV4.test(value) || (value.includes(':') && IPV6.test(value)) ? value : null;
}

/** The user agent, cut to a length worth storing. */
export function userAgent(c: Context<AppBindings>): string | null {
  return c.req.header('User-Agent')?.slice(0, 512) ?? null;
}
