import { describe, expect, it } from 'vitest';
import { persistenceFields, persistenceProblem } from './redis-persistence.js';

const info = (aof: string) =>
  `# Persistence\r\nloading:0\r\nrdb_changes_since_last_save:12\r\naof_enabled:${aof}\r\naof_rewrite_in_progress:0\r\n`;

describe('Redis persistence', () => {
  it('reads INFO persistence as fields', () => {
    expect(persistenceFields(info('1'))).toMatchObject({ aof_enabled: '1', loading: '0' });
  });

  it('an append-only file is enough; without one (RDB snapshots or nothing) the Redis is refused, naming the way out', () => {
    expect(persistenceProblem(persistenceFields(info('1')))).toBeUndefined();
    const problem = persistenceProblem(persistenceFields(info('0')));
    expect(problem).toMatch(/^REDIS_URL: the Redis has no append-only file \(aof_enabled:0\)/);
    expect(problem).toContain('REDIS_ALLOW_NO_PERSISTENCE=true');
    expect(persistenceProblem({})).toMatch(/aof_enabled:\?/);
  });
});
