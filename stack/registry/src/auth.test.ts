// The registry behind basic auth (./stack/stack.sh up --secure): no credentials or wrong ones get
// 401 with the Confluent error body; the right ones get the API.
import { describe, expect, it } from 'vitest';
import { buildApp, PREFIX } from './app.js';
import { RegistryState } from './store.js';

const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

describe('basic auth', () => {
  it('refuses a request without the credentials and serves one with them', async () => {
    const app = buildApp({
      state: new RegistryState(),
      journal: { append: async () => undefined },
      basicAuth: { username: 'booking', password: 's3cret-pass' },
    });
    const none = await app.inject({ method: 'GET', url: `${PREFIX}/subjects` });
    expect(none.statusCode).toBe(401);
    expect(none.json()).toEqual({ error_code: 40101, message: 'Unauthorized' });
    expect(none.headers['www-authenticate']).toContain('Basic');
    const wrong = await app.inject({
      method: 'GET',
      url: `${PREFIX}/subjects`,
      headers: { authorization: basic('booking', 'guess') },
    });
    expect(wrong.statusCode).toBe(401);
    const right = await app.inject({
      method: 'GET',
      url: `${PREFIX}/subjects`,
      headers: { authorization: basic('booking', 's3cret-pass') },
    });
    expect(right.statusCode).toBe(200);
    expect(right.json()).toEqual([]);
    await app.close();
  });
});
