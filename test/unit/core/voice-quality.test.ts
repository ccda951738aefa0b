import { describe, expect, it } from 'vitest';
import { assessVoiceQuality } from '../../../src/core/voice-quality.ts';

const vars = (values: Record<string, string>) => (name: string) => values[name];

describe('voice quality from FreeSWITCH RTP statistics', () => {
  it('reads the statistics of a good call as recorded by FreeSWITCH', () => {
    // The values of the recorded call to 1000 (inbound-event-plain-call1000).
    const quality = assessVoiceQuality(
      vars({
        rtp_audio_in_mos: '4.50',
        rtp_audio_in_packet_count: '200',
        rtp_audio_in_skip_packet_count: '3',
        rtp_audio_in_jitter_max_variance: '60.07',
      }),
      3.5,
    );
    expect(quality).toEqual({ mos: 4.5, packetLossPercent: 1.48, jitterMaxVarianceMs: 60.07, poor: false });
  });

  it('flags a call under the threshold', () => {
    const quality = assessVoiceQuality(vars({ rtp_audio_in_mos: '2.9', rtp_audio_in_packet_count: '900' }), 3.5);
    expect(quality?.poor).toBe(true);
    expect(quality?.packetLossPercent).toBe(0);
  });

  it('has nothing to say about a call without RTP', () => {
    expect(assessVoiceQuality(vars({}), 3.5)).toBeNull();
    expect(assessVoiceQuality(vars({ rtp_audio_in_mos: '0.00', rtp_audio_in_packet_count: '0' }), 3.5)).toBeNull();
    expect(assessVoiceQuality(vars({ rtp_audio_in_mos: 'n/a', rtp_audio_in_packet_count: '10' }), 3.5)).toBeNull();
  });
});
