import { describe, expect, it } from 'vitest';
import { DEFAULT_GREETING_SOUND, loadConfig } from '../../src/app/config.ts';
import { ConfigError } from '../../src/core/errors.ts';
import { resolve } from 'node:path';

const production = { FREESWITCH_ESL_PASSWORD: 's3cret', CALLBRIDGE_API_TOKEN: 'a-long-enough-api-token' };

function problemsOf(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('applies the documented defaults in production', () => {
    const config = loadConfig(production, { mode: 'production' });
    expect(config.freeswitch).toEqual({
      eslHost: '127.0.0.1',
      eslPort: 8021,
      eslPassword: 's3cret',
      commandTimeoutMs: 5000,
      reconnectMinMs: 500,
      reconnectMaxMs: 30_000,
    });
    expect(config.controllerSocket).toEqual({ host: '127.0.0.1', port: 8084, advertisedHost: '127.0.0.1' });
    expect(config.http).toEqual({
      host: '127.0.0.1',
      port: 8080,
      apiToken: 'a-long-enough-api-token',
      apiTokenGenerated: false,
    });
    expect(config.database).toEqual({ url: undefined, pgliteDataDir: './data/pglite' });
    expect(config.redis.url).toBeUndefined();
    expect(config.log).toEqual({ level: 'info', format: 'json' });
    expect(config.greetingSound).toBe(DEFAULT_GREETING_SOUND);
    expect(config.greetingSound.startsWith('tone_stream://')).toBe(true);
    // Absolute: FreeSWITCH, which writes the recordings, does not share our working directory.
    expect(config.recordingsDir).toBe(resolve('./data/recordings'));
  });

  it('reads every variable it knows', () => {
    const config = loadConfig(
      {
        ...production,
        FREESWITCH_ESL_HOST: 'fs1.internal',
        FREESWITCH_ESL_PORT: '18021',
        CONTROLLER_SOCKET_HOST: '0.0.0.0',
        CONTROLLER_SOCKET_PORT: '9000',
        HTTP_HOST: '::',
        HTTP_PORT: '3000',
        DATABASE_URL: 'postgresql://app:pw@db:5432/callbridge',
        PGLITE_DATA_DIR: '/var/lib/cb',
        REDIS_URL: 'rediss://cache:6380',
        LOG_LEVEL: 'debug',
        LOG_FORMAT: 'pretty',
        ESL_COMMAND_TIMEOUT_MS: '2500',
        ESL_RECONNECT_MIN_MS: '100',
        ESL_RECONNECT_MAX_MS: '1000',
        GREETING_SOUND: '/sounds/hello.wav',
        RECORDINGS_DIR: '/rec',
      },
      { mode: 'production' },
    );
    expect(config.freeswitch.eslHost).toBe('fs1.internal');
    expect(config.freeswitch.eslPort).toBe(18021);
    expect(config.freeswitch.commandTimeoutMs).toBe(2500);
    expect(config.freeswitch.reconnectMinMs).toBe(100);
    expect(config.freeswitch.reconnectMaxMs).toBe(1000);
    expect(config.controllerSocket).toEqual({ host: '0.0.0.0', port: 9000, advertisedHost: '127.0.0.1' });
    expect(config.http.host).toBe('::');
    expect(config.http.port).toBe(3000);
    expect(config.database).toEqual({ url: 'postgresql://app:pw@db:5432/callbridge', pgliteDataDir: '/var/lib/cb' });
    expect(config.redis.url).toBe('rediss://cache:6380');
    expect(config.log).toEqual({ level: 'debug', format: 'pretty' });
    expect(config.greetingSound).toBe('/sounds/hello.wav');
    expect(config.recordingsDir).toBe('/rec');
  });

  it('is deeply frozen', () => {
    const config = loadConfig(production, { mode: 'production' });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.freeswitch)).toBe(true);
    expect(() => {
      (config.freeswitch as { eslPort: number }).eslPort = 1;
    }).toThrow(TypeError);
  });

  it('reports every bad variable by name at once', () => {
    const problems = problemsOf(() =>
      loadConfig(
        {
          FREESWITCH_ESL_PORT: 'abc',
          HTTP_PORT: '70000',
          CONTROLLER_SOCKET_PORT: '0',
          CONTROLLER_SOCKET_HOST: '   ',
          DATABASE_URL: 'mysql://u:hunter2@db/x',
          REDIS_URL: 'http://cache',
          LOG_LEVEL: 'loud',
          LOG_FORMAT: 'xml',
          ESL_COMMAND_TIMEOUT_MS: '1.5',
        },
        { mode: 'production' },
      ),
    );
    const names = problems.map((p) => p.split(':')[0]);
    expect(names.sort()).toEqual(
      [
        'CALLBRIDGE_API_TOKEN',
        'CONTROLLER_SOCKET_HOST',
        'CONTROLLER_SOCKET_PORT',
        'DATABASE_URL',
        'ESL_COMMAND_TIMEOUT_MS',
        'FREESWITCH_ESL_PASSWORD',
        'FREESWITCH_ESL_PORT',
        'HTTP_PORT',
        'LOG_FORMAT',
        'LOG_LEVEL',
        'REDIS_URL',
      ].sort(),
    );
    const text = problems.join('\n');
    expect(text).toContain('FREESWITCH_ESL_PORT: expected an integer port 1–65535, got "abc"');
    expect(text).toContain('HTTP_PORT: expected an integer port 1–65535, got 70000');
    expect(text).toContain('DATABASE_URL: expected a postgres:// or postgresql:// URL');
    expect(text).toContain('REDIS_URL: expected a redis:// or rediss:// URL');
    expect(text).toContain('FREESWITCH_ESL_PASSWORD: is required');
  });

  it('puts every problem in the error message the CLI prints, without echoing secrets', () => {
    try {
      loadConfig({ DATABASE_URL: 'mysql://u:hunter2@db/x', HTTP_PORT: 'x' }, { mode: 'production' });
      expect.unreachable();
    } catch (error) {
      const message = (error as Error).message;
      expect(message).toMatch(/^Invalid configuration:/);
      expect(message).toContain('DATABASE_URL');
      expect(message).toContain('HTTP_PORT');
      expect(message).toContain('FREESWITCH_ESL_PASSWORD');
      expect(message).not.toContain('hunter2');
    }
  });

  it('refuses to start in production without an API token, or with a short one', () => {
    const missing = problemsOf(() => loadConfig({ FREESWITCH_ESL_PASSWORD: 'x' }, { mode: 'production' }));
    expect(missing).toHaveLength(1);
    expect(missing[0]).toMatch(/^CALLBRIDGE_API_TOKEN: is required/);
    const short = problemsOf(() =>
      loadConfig({ FREESWITCH_ESL_PASSWORD: 'x', CALLBRIDGE_API_TOKEN: 'short' }, { mode: 'production' }),
    );
    expect(short[0]).toMatch(/^CALLBRIDGE_API_TOKEN: must be at least 16 characters/);
  });

  it('refuses the renamed CALLBRIDGE_TOKEN in every mode, naming CALLBRIDGE_API_TOKEN, without echoing it', () => {
    for (const mode of ['production', 'worker', 'demo'] as const) {
      const problems = problemsOf(() => loadConfig({ ...production, CALLBRIDGE_TOKEN: 'old-name-secret-0123' }, { mode }));
      expect(problems).toEqual(['CALLBRIDGE_TOKEN: renamed to CALLBRIDGE_API_TOKEN; set CALLBRIDGE_API_TOKEN instead and remove CALLBRIDGE_TOKEN']);
    }
    // Empty (compose's `${VAR:-}`) means unset.
    expect(loadConfig({ ...production, CALLBRIDGE_TOKEN: '' }, { mode: 'worker' }).http.apiToken).toBe('a-long-enough-api-token');
  });

  it('needs nothing in demo mode: ClueCon, pretty logs, a generated API token', () => {
    const a = loadConfig({}, { mode: 'demo' });
    const b = loadConfig({}, { mode: 'demo' });
    expect(a.freeswitch.eslPassword).toBe('ClueCon');
    expect(a.log.format).toBe('pretty');
    expect(a.http.apiTokenGenerated).toBe(true);
    expect(a.http.apiToken?.length).toBeGreaterThanOrEqual(16);
    expect(a.http.apiToken).not.toBe(b.http.apiToken);
    const given = loadConfig({ CALLBRIDGE_API_TOKEN: 'operator-chosen-token', LOG_FORMAT: 'json' }, { mode: 'demo' });
    expect(given.http).toMatchObject({ apiToken: 'operator-chosen-token', apiTokenGenerated: false });
    expect(given.log.format).toBe('json');
  });

  it('needs neither the ESL password nor an API token in worker mode (the worker never talks to FreeSWITCH)', () => {
    const config = loadConfig({}, { mode: 'worker' });
    expect(config.freeswitch.eslPassword).toBe('');
    expect(config.http.apiToken).toBeUndefined();
  });

  it('treats empty values as unset (compose passes VAR=${VAR:-})', () => {
    const config = loadConfig({ ...production, DATABASE_URL: '', REDIS_URL: '', HTTP_PORT: '' }, { mode: 'production' });
    expect(config.database.url).toBeUndefined();
    expect(config.redis.url).toBeUndefined();
    expect(config.http.port).toBe(8080);
  });

  it('rejects a reconnect minimum above the maximum, alongside other problems', () => {
    const problems = problemsOf(() =>
      loadConfig({ ESL_RECONNECT_MIN_MS: '5000', ESL_RECONNECT_MAX_MS: '100' }, { mode: 'demo' }),
    );
    expect(problems).toEqual(['ESL_RECONNECT_MIN_MS: must not exceed ESL_RECONNECT_MAX_MS (5000 > 100)']);
  });

  it('leaves variables it does not know (other services\' settings) alone', () => {
    const config = loadConfig({ ...production, THREECX_API_URL: 'https://pbx', TWILIO_SIP_HOST: 'x.pstn.twilio.com' }, { mode: 'production' });
    expect(config.http.port).toBe(8080);
  });

  it('reads the emergency contacts and Twilio, and names bad numbers', () => {
    const config = loadConfig(
      {
        ...production,
        EMERGENCY_NOTIFICATION_SMS: '+17045550170, +17045550171',
        EMERGENCY_TRANSFER_NUMBER: '+17045550911',
        TWILIO_ACCOUNT_SID: `AC${'0'.repeat(32)}`,
        TWILIO_AUTH_TOKEN: 'token',
        TWILIO_PHONE_NUMBER: '+17045550199',
        PUBLIC_BASE_URL: 'https://calls.example.org/',
      },
      { mode: 'production' },
    );
    expect(config.emergency).toEqual({ transferNumber: '+17045550911', managerExtension: undefined, notifySms: ['+17045550170', '+17045550171'] });
    expect(config.twilio.enabled).toBe(true);
    expect(config.publicBaseUrl).toBe('https://calls.example.org');
    const problems = problemsOf(() =>
      loadConfig({ ...production, EMERGENCY_NOTIFICATION_SMS: '+17045550170,5550171', TWILIO_ACCOUNT_SID: 'AC1' }, { mode: 'production' }),
    );
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual(['EMERGENCY_NOTIFICATION_SMS', 'TWILIO_ACCOUNT_SID']);
  });

  it('turns the voice pipeline on only with both speech credentials, and renders MULAW at 8 kHz', () => {
    expect(loadConfig(production, { mode: 'production' }).voice.enabled).toBe(false);
    expect(loadConfig({ ...production, SPEECHMATICS_API_KEY: 'k' }, { mode: 'production' }).voice.enabled).toBe(false);
    const voice = loadConfig(
      { ...production, SPEECHMATICS_API_KEY: 'k', GOOGLE_APPLICATION_CREDENTIALS: '/keys/tts.json', TTS_ENCODING: 'MULAW', TTS_CACHE_DIR: 'cache' },
      { mode: 'production' },
    ).voice;
    expect(voice.enabled).toBe(true);
    expect(voice.tts.sampleRate).toBe(8000);
    expect(voice.tts.cacheDir).toBe(resolve('cache'));
    expect(voice.speechmatics).toMatchObject({ maxDelaySec: 0.7, endOfUtteranceSilenceSec: 0.6, audioBatchMs: 60, realtimeUrl: 'wss://eu2.rt.speechmatics.com/v2' });
    expect(voice.audioFork).toEqual({ baseUrl: undefined, tokenTtlMs: 30_000, maxRestarts: 2 });
    expect(loadConfig({ ...production, SPEECHMATICS_AUDIO_BATCH_MS: '100' }, { mode: 'production' }).voice.speechmatics.audioBatchMs).toBe(100);
  });

  it('names every bad voice setting', () => {
    const problems = problemsOf(() =>
      loadConfig(
        { ...production, SPEECHMATICS_URL: 'https://not-a-websocket', SPEECHMATICS_MAX_DELAY: '0.1', SPEECHMATICS_AUDIO_BATCH_MS: '50', TTS_SAMPLE_RATE: '44100', AUDIO_FORK_BASE_URL: 'http://x', AI_ENGINE_URL: 'ftp://x' },
        { mode: 'production' },
      ),
    );
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual(['AI_ENGINE_URL', 'AUDIO_FORK_BASE_URL', 'SPEECHMATICS_AUDIO_BATCH_MS', 'SPEECHMATICS_MAX_DELAY', 'SPEECHMATICS_URL', 'TTS_SAMPLE_RATE']);
  });
});
