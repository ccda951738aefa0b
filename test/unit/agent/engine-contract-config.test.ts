// AI_ENGINE_CONTRACT picks the AI engine contract version the controller speaks; v1 unless told otherwise.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/app/config.ts';
import { ConfigError } from '../../../src/core/errors.ts';

const production = { FREESWITCH_ESL_PASSWORD: 's3cret', CALLBRIDGE_API_TOKEN: 'a-long-enough-api-token' };

describe('AI_ENGINE_CONTRACT', () => {
  it('defaults to v1 (also when blank) and takes v2', () => {
    expect(loadConfig(production, { mode: 'production' }).voice.aiEngine.contract).toBe('v1');
    expect(loadConfig({ ...production, AI_ENGINE_CONTRACT: '' }, { mode: 'production' }).voice.aiEngine.contract).toBe('v1');
    expect(loadConfig({ ...production, AI_ENGINE_CONTRACT: 'v2' }, { mode: 'production' }).voice.aiEngine.contract).toBe('v2');
  });

  it('refuses any other version by name', () => {
    let problems: readonly string[] = [];
    try {
      loadConfig({ ...production, AI_ENGINE_CONTRACT: 'v3' }, { mode: 'production' });
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      problems = (error as ConfigError).problems;
    }
    expect(problems).toEqual(['AI_ENGINE_CONTRACT: expected v1 or v2, got "v3"']);
  });
});
