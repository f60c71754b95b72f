// Bearer API keys, checked where a route asks for them (issue 12: a string test on the raw URL let
// `POST /%761/appointments` through unauthenticated). Several keys at once, for rotation; each has
// an id (a digest prefix, never the key) that scopes its idempotency keys and its rate limit.
import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (s: string) => createHash('sha256').update(s).digest();

export interface ApiKeys {
  /** The key's id when the Authorization header carries one of the keys, else undefined. */
  verify(authorization: string | string[] | undefined): string | undefined;
}

/** The id a key is known by in logs, scopes and limits: 16 hex characters of its SHA-256. */
export function apiKeyId(key: string): string {
  return digest(key).toString('hex').slice(0, 16);
}

export function apiKeys(keys: readonly string[]): ApiKeys {
  const known = keys.map((k) => ({ digest: digest(k), id: apiKeyId(k) }));
  return {
    verify(authorization) {
      // RFC 9110 §11.1: the scheme is case-insensitive ("bearer", "BEARER"); then 1*SP and the token.
      if (typeof authorization !== 'string') return undefined;
      const m = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) +(\S+)$/.exec(authorization);
      if (!m || m[1]!.toLowerCase() !== 'bearer') return undefined;
      const token = m[2]!;
      if (token.length > 512) return undefined;
      // Constant time: every key compared, fixed-length digests, whatever matches.
      const given = digest(token);
      let id: string | undefined;
      for (const k of known) if (timingSafeEqual(given, k.digest)) id = k.id;
      return id;
    },
  };
}
