// A service's configuration, read once at start: its variables validated (every problem in one
// error), then, in shadow mode, the shadow guard applied and its topics and groups renamed.
import type { z } from 'zod';
import { loadConfig } from './config.js';
import { connections, parseConnections } from './connections.js';
import { ConfigError } from './errors.js';
import { type Env, isShadow, SHADOW_GROUP_PREFIX, SHADOW_TOPIC_SUFFIX, shadowProblems } from './shadow.js';
import { type TopicKey, topicNames } from './topics.js';

/**
 * A service's configuration and topics: `loadConfig`, then in shadow mode the guard, `.shadow`
 * topics and `shadow.` groups.
 */
export function loadServiceConfig<S extends z.ZodType>(
  schema: S,
  env: Env = process.env,
): { config: Readonly<z.infer<S>>; topics: Record<TopicKey, string> } {
  const problems = shadowProblems(env);
  // The connection variables (TLS, SASL, registry and Redis credentials) are checked with the rest:
  // a service with a bad one stops at start with one line per problem.
  try {
    if (env === process.env) connections();
    else parseConnections(env);
  } catch (err) {
    if (err instanceof ConfigError) problems.push(...err.problems);
    else throw err;
  }
  if (problems.length) throw new ConfigError(problems);
  const config = loadConfig(schema, env) as Readonly<z.infer<S>> & {
    TOPIC_PREFIX?: string;
    GROUP_PREFIX?: string;
  };
  if (!isShadow(env)) return { config, topics: topicNames(config.TOPIC_PREFIX ?? '') };
  const shadowed = Object.freeze({
    ...config,
    ...(config.GROUP_PREFIX !== undefined
      ? { GROUP_PREFIX: `${SHADOW_GROUP_PREFIX}${config.GROUP_PREFIX}` }
      : {}),
  });
  return {
    config: shadowed as Readonly<z.infer<S>>,
    topics: topicNames(config.TOPIC_PREFIX ?? '', SHADOW_TOPIC_SUFFIX),
  };
}
