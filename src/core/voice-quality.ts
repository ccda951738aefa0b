// How the caller's audio fared, from FreeSWITCH's RTP statistics of the call's inbound stream (the
// `rtp_audio_in_*` channel variables on CHANNEL_HANGUP_COMPLETE). Calls whose MOS falls under the practice's
// VOICE_QUALITY_THRESHOLD are flagged, so poor lines (a bad trunk, a congested link) show up in the record.

export interface VoiceQuality {
  /** Mean opinion score FreeSWITCH estimates, 1 (bad) to 4.5 (best for narrowband). */
  mos: number;
  /** Packets lost or skipped, in percent of the packets expected. */
  packetLossPercent: number;
  /** Largest jitter variance FreeSWITCH measured (ms). */
  jitterMaxVarianceMs: number;
  /** MOS under the threshold. */
  poor: boolean;
}

/** Reads the statistics; null when the call carried no RTP (not answered, or a loopback channel). */
export function assessVoiceQuality(variable: (name: string) => string | undefined, thresholdMos: number): VoiceQuality | null {
  const mos = number(variable('rtp_audio_in_mos'));
  const received = number(variable('rtp_audio_in_packet_count'));
  if (mos === null || received === null || received === 0) return null;
  const skipped = number(variable('rtp_audio_in_skip_packet_count')) ?? 0;
  const jitter = number(variable('rtp_audio_in_jitter_max_variance')) ?? 0;
  const packetLossPercent = Math.round((skipped / (received + skipped)) * 10000) / 100;
  return { mos, packetLossPercent, jitterMaxVarianceMs: jitter, poor: mos < thresholdMos };
}

function number(text: string | undefined): number | null {
  if (text === undefined || text.trim() === '') return null;
  const value = Number(text);
  return Number.isFinite(value) ? value : null;
}
