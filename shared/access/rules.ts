import { gt, isNull, or } from 'drizzle-orm';
import { z } from 'zod';
import {
  type AccessList,
  type AccessSubjectType,
  accessList,
  accessRules,
  accessSubjectType,
} from '../db/schema/index.ts';
import { isId } from '../ids.ts';
import type { Services } from '../services.ts';
import { formatCidr, mask, parseCidr, parseIp } from './ip.ts';

/** The KV key of the rules snapshot every isolate reads (bump the version on a format change). */
export const ACCESS_RULES_KV_KEY = 'access-rules:v1';
/** How long an isolate trusts its copy of the snapshot before looking again. */
export const LOCAL_TTL_MS = 10_000;
/** After a failed load, how long to go on without rules before trying again. */
const RETRY_MS = 1_000;
/**
 * The KV snapshot expires on its own, so a snapshot that could not be rewritten after a change
 * (KV down at that moment) is replaced from Postgres within this time.
 */
const KV_TTL_SECONDS = 300;
/** KV's edge read cache (its minimum): how stale another location's copy can be. */
const KV_CACHE_TTL_SECONDS = 30;

const SnapshotRule = z.object({
  id: z.string(),
  list: z.enum(accessList.enumValues),
  subject_type: z.enum(accessSubjectType.enumValues),
  value: z.string(),
  expires_at: z.string().nullable(),
});
export type SnapshotRule = z.infer<typeof SnapshotRule>;

const Snapshot = z.object({
  version: z.literal(1),
  generated_at: z.string(),
  rules: z.array(SnapshotRule),
});
export type AccessSnapshot = z.infer<typeof Snapshot>;

/**
 * A rule's value in canonical form, or why it is not a valid one: an IP address or CIDR range
 * (v4 or v6, no host bits past the prefix) for `ip`, an API key id (`key_…`) for `api_key`.
 */
export function normalizeRuleValue(
  subjectType: AccessSubjectType,
  value: string,
): { ok: true; value: string } | { ok: false; problem: string } {
  if (subjectType === 'api_key') {
    return isId('apiKey', value)
      ? { ok: true, value }
      : { ok: false, problem: 'must be an API key id (key_…)' };
  }
  const parsed = parseCidr(value);
  if (!parsed.ok)
    return { ok: false, problem: `must be an IP address or CIDR range: ${parsed.problem}` };
  return { ok: true, value: formatCidr(parsed.range) };
}

export type AccessVerdict = { list: AccessList; ruleId: string } | null;

export type AccessSubject = { ip: string | null; keyId: string | null };

/** Answers "is this caller on a list?" in a few map look-ups, whatever the number of rules. */
export type AccessMatcher = {
  readonly size: number;
  /** Deny wins over allow; expired rules are skipped. */
  match(subject: AccessSubject, now?: number): AccessVerdict;
};

type Compiled = { id: string; list: AccessList; expiresAt: number | null };

/** Builds the matcher of a snapshot: keys by id, IP ranges grouped by version and prefix. */
export function compileRules(rules: readonly SnapshotRule[]): AccessMatcher {
  const keys = new Map<string, Compiled[]>();
  const ranges = new Map<
    string,
    { version: 4 | 6; prefix: number; networks: Map<string, Compiled[]> }
  >();
  const add = <K>(map: Map<K, Compiled[]>, key: K, rule: Compiled) => {
    const list = map.get(key);
    if (list) list.push(rule);
    else map.set(key, [rule]);
  };
  for (const rule of rules) {
    const compiled: Compiled = {
      id: rule.id,
      list: rule.list,
      expiresAt: rule.expires_at === null ? null : Date.parse(rule.expires_at),
    };
    if (rule.subject_type === 'api_key') {
      add(keys, rule.value, compiled);
      continue;
    }
    const parsed = parseCidr(rule.value);
    if (!parsed.ok) continue;
    const { version, prefix, bytes } = parsed.range;
    const group = `${version}/${prefix}`;
    let entry = ranges.get(group);
    if (!entry) {
      entry = { version, prefix, networks: new Map() };
      ranges.set(group, entry);
    }
    add(entry.networks, hex(bytes), compiled);
  }
  const groups = [...ranges.values()];
  return {
    size: rules.length,
    match({ ip, keyId }, now = Date.now()) {
      let allow: AccessVerdict = null;
      const consider = (candidates: Compiled[] | undefined): AccessVerdict => {
        for (const rule of candidates ?? []) {
          if (rule.expiresAt !== null && rule.expiresAt <= now) continue;
          if (rule.list === 'deny') return { list: 'deny', ruleId: rule.id };
          allow ??= { list: 'allow', ruleId: rule.id };
        }
        return null;
      };
      if (keyId) {
        const denied = consider(keys.get(keyId));
        if (denied) return denied;
      }
      const address = ip === null ? null : parseIp(ip);
      if (address) {
        for (const group of groups) {
          if (group.version !== address.version) continue;
          const denied = consider(group.networks.get(hex(mask(address.bytes, group.prefix))));
          if (denied) return denied;
        }
      }
      return allow;
    },
  };
}

const hex = (bytes: Uint8Array) =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

const EMPTY = compileRules([]);

let cached: { matcher: AccessMatcher; expiresAt: number; refreshing: number | null } | undefined;

type RuleServices = Pick<Services, 'db' | 'kv' | 'logger' | 'waitUntil'>;

/**
 * The access rules, read through three tiers: this isolate's copy (trusted for 10 s), the KV
 * snapshot `access-rules:v1`, and Postgres (which then rewrites the snapshot). A stale copy is
 * served while a fresh one loads in the background, so only a cold isolate waits. Never throws:
 * when neither KV nor Postgres answers, the last copy (or no rules at all) is used, a warning
 * says why, and the load is retried a second later. Failing open keeps the API up when the
 * rules cannot be read; the rate limiter still applies.
 *
 * A change made through the admin API is in force at once in the isolate that made it, within
 * 10 s in other isolates that read the same KV copy, and everywhere once KV has propagated
 * the new snapshot (KV's own delay, typically under a minute, plus its 30 s edge read cache).
 */
export async function accessMatcher(
  services: RuleServices,
  now = Date.now(),
): Promise<AccessMatcher> {
  if (cached && now < cached.expiresAt) return cached.matcher;
  if (cached) {
    // No cross-request promise sharing: I/O started by one request cannot be awaited by another.
    if (cached.refreshing === null || now - cached.refreshing > 5_000) {
      cached.refreshing = now;
      services.waitUntil(refresh(services));
    }
    return cached.matcher;
  }
  return refresh(services);
}

async function refresh(services: RuleServices): Promise<AccessMatcher> {
  try {
    const snapshot = await loadSnapshot(services);
    const matcher = compileRules(snapshot.rules);
    cached = { matcher, expiresAt: Date.now() + LOCAL_TTL_MS, refreshing: null };
    return matcher;
  } catch (error) {
    services.logger.warn('access rules unavailable; failing open', {
      reason: error instanceof Error ? error.message : String(error),
      rules_in_use: cached?.matcher.size ?? 0,
    });
    const matcher = cached?.matcher ?? EMPTY;
    cached = { matcher, expiresAt: Date.now() + RETRY_MS, refreshing: null };
    return matcher;
  }
}

async function loadSnapshot(services: RuleServices): Promise<AccessSnapshot> {
  try {
    const stored = await services.kv.get(ACCESS_RULES_KV_KEY, {
      type: 'json',
      cacheTtl: KV_CACHE_TTL_SECONDS,
    });
    if (stored !== null) {
      const parsed = Snapshot.safeParse(stored);
      if (parsed.success) return parsed.data;
      services.logger.warn('access rules snapshot in KV is malformed; reading Postgres');
    }
  } catch (error) {
    services.logger.warn('access rules snapshot unreadable; reading Postgres', {
      reason: error instanceof Error ? error.message : String(error),
    });
  }
  const snapshot = await snapshotFromDatabase(services);
  services.waitUntil(writeSnapshot(services, snapshot));
  return snapshot;
}

/** Every rule in force, from Postgres. */
export async function snapshotFromDatabase(
  services: Pick<Services, 'db'>,
): Promise<AccessSnapshot> {
  const now = new Date();
  const rows = await services.db
    .select()
    .from(accessRules)
    .where(or(isNull(accessRules.expiresAt), gt(accessRules.expiresAt, now)));
  return {
    version: 1,
    generated_at: now.toISOString(),
    rules: rows.map((row) => ({
      id: row.id,
      list: row.list,
      subject_type: row.subjectType,
      value: row.value,
      expires_at: row.expiresAt?.toISOString() ?? null,
    })),
  };
}

async function writeSnapshot(services: Pick<Services, 'kv' | 'logger'>, snapshot: AccessSnapshot) {
  try {
    await services.kv.put(ACCESS_RULES_KV_KEY, JSON.stringify(snapshot), {
      expirationTtl: KV_TTL_SECONDS,
    });
    return true;
  } catch (error) {
    services.logger.warn('access rules snapshot not written', {
      reason: error instanceof Error ? error.message : String(error),
    });
    return false;
  }
}

/**
 * After a change: rebuilds the snapshot from Postgres, rewrites it in KV and replaces this
 * isolate's copy. If KV cannot be written, the old snapshot is deleted instead so readers fall
 * through to Postgres; if that fails too, the stale snapshot lives at most 5 minutes.
 */
export async function publishAccessRules(services: RuleServices): Promise<void> {
  cached = undefined;
  const snapshot = await snapshotFromDatabase(services);
  cached = {
    matcher: compileRules(snapshot.rules),
    expiresAt: Date.now() + LOCAL_TTL_MS,
    refreshing: null,
  };
  if (!(await writeSnapshot(services, snapshot))) {
    await services.kv.delete(ACCESS_RULES_KV_KEY).catch((error: unknown) => {
      services.logger.error('access rules snapshot stale in KV', {
        reason: error instanceof Error ? error.message : String(error),
      });
    });
  }
}

/** Drops this isolate's copy (tests, and anything that must see a change made elsewhere). */
export function clearAccessRulesCache(): void {
  cached = undefined;
}
