// Shadow mode (issue 6, cutover): the same services on `*.shadow` topics with `shadow.` consumer
// groups, calling only the provider's sandbox. A shadow refuses to start when its provider URL or
// token is the production one, so mirrored traffic can never book a real slot.

export const SHADOW_TOPIC_SUFFIX = '.shadow';
export const SHADOW_GROUP_PREFIX = 'shadow.';

export type Env = Record<string, string | undefined>;

export function isShadow(env: Env = process.env): boolean {
  return env.SHADOW_MODE === 'true';
}

function origin(url: string): string | undefined {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}

/** `host:port/db` of a Redis URL (port 6379 and database 0 when not given). */
export function redisDatabase(url: string): string | undefined {
  try {
    const u = new URL(url);
    const db = u.pathname.replace(/^\//, '') || '0';
    return `${u.hostname}:${u.port || '6379'}/${db}`;
  } catch {
    return undefined;
  }
}

/** Every reason a shadow deployment must not start (empty when not in shadow mode). */
export function shadowProblems(env: Env = process.env): string[] {
  if (!isShadow(env)) return [];
  const problems: string[] = [];
  const prodUrl = env.PRODUCTION_PROVIDER_URL;
  const prodToken = env.PRODUCTION_PROVIDER_TOKEN;
  if (!prodUrl || !prodToken) {
    problems.push(
      'SHADOW_MODE=true: PRODUCTION_PROVIDER_URL and PRODUCTION_PROVIDER_TOKEN are required, so the shadow can refuse them',
    );
  }
  if (env.PROVIDER_URL && prodUrl && origin(env.PROVIDER_URL) === origin(prodUrl)) {
    problems.push('PROVIDER_URL: is the production provider; a shadow calls the sandbox only');
  }
  if (env.PROVIDER_TOKEN && prodToken && env.PROVIDER_TOKEN === prodToken) {
    problems.push('PROVIDER_TOKEN: is the production token; a shadow uses the sandbox token');
  }
  // Appointment ids derive from idempotency keys, so a shadow on production's Redis database would
  // find production's claims and projections and take them for its own.
  const prodRedis = env.PRODUCTION_REDIS_URL;
  if (env.REDIS_URL && prodRedis && redisDatabase(env.REDIS_URL) === redisDatabase(prodRedis)) {
    problems.push(
      "REDIS_URL: is production's Redis database; a shadow needs one of its own (e.g. redis://host:6379/1)",
    );
  }
  return problems;
}
