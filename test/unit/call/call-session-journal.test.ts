import { describe, expect, it } from 'vitest';
import { announcement, summarizeDecision } from '../../../src/call/session-journal.ts';

describe('announcements from the routing file', () => {
  it('plays sounds as they are and speaks plain text, on one line', () => {
    expect(announcement('/var/lib/callbridge/notice.wav')).toEqual({ app: 'playback', arg: '/var/lib/callbridge/notice.wav' });
    expect(announcement('tone_stream://%(200,0,440)')).toEqual({ app: 'playback', arg: 'tone_stream://%(200,0,440)' });
    expect(announcement('This call may be recorded.\nThank you.')).toEqual({
      app: 'speak',
      arg: 'flite|slt|This call may be recorded. Thank you.',
    });
  });
});

describe('what the journal keeps of a routing decision', () => {
  it('keeps where and why, and the agents by extension only', () => {
    const summary = summarizeDecision({
      target: {
        kind: 'ring_group',
        ringGroup: 'billing',
        agents: [{ extension: '201', name: 'Tom Nguyen', skills: ['billing'], priority: 1 }],
        ringSeconds: 20,
        fallback: { kind: 'voicemail', mailbox: 'main', extension: '800' },
      },
      location: 'charlotte',
      recording: { enabled: false, announcement: null },
      language: 'en-US',
      reason: 'Open; this number rings people straight away.',
      rule: 'numbers.+17045550102.mode',
    });
    expect(summary).toEqual({
      target: 'ring_group',
      ringGroup: 'billing',
      agents: ['201'],
      location: 'charlotte',
      rule: 'numbers.+17045550102.mode',
      reason: 'Open; this number rings people straight away.',
      recording: false,
    });
  });
});
