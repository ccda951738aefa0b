import { describe, expect, it } from 'vitest';
import { ChannelCommandError, ChannelControl } from '../../../src/esl/channel-control.ts';
import { RecordingEsl } from '../../../src/esl/recording-esl.ts';

const UUID = '0c0e0d43-2c4b-4f7e-9a51-6e2f4b8d9a10';
const OTHER = 'a6b1f3f2-7d4e-4c55-8e0a-2f1d9c3b7e61';

describe('ChannelControl', () => {
  it('sends each api verb as FreeSWITCH spells it', async () => {
    const esl = new RecordingEsl();
    const channel = new ChannelControl(esl);
    await channel.kill(UUID);
    await channel.kill(UUID, 'USER_BUSY');
    await channel.breakAll(UUID);
    await channel.uuidBridge(UUID, OTHER);
    await channel.broadcast(UUID, 'local_stream://moh', 'aleg');
    await channel.audioForkStart(UUID, 'ws://127.0.0.1:8080/fork/abc?token=x', 'mono', '16k');
    await channel.audioForkStop(UUID);
    await channel.transfer(UUID, '1000', 'XML', 'public');
    await channel.transfer(UUID, '1000', 'XML', '');
    expect(esl.sent('api')).toEqual([
      `uuid_kill ${UUID}`,
      `uuid_kill ${UUID} USER_BUSY`,
      `uuid_break ${UUID} all`,
      `uuid_bridge ${UUID} ${OTHER}`,
      `uuid_broadcast ${UUID} local_stream://moh aleg`,
      `uuid_audio_fork ${UUID} start ws://127.0.0.1:8080/fork/abc?token=x mono 16k`,
      `uuid_audio_fork ${UUID} stop`,
      `uuid_transfer ${UUID} 1000 XML public`,
      `uuid_transfer ${UUID} 1000 XML`,
    ]);
  });

  it('reads uuid_exists as a yes or no', async () => {
    const esl = new RecordingEsl();
    esl.apiReply = (command) => (command.endsWith(UUID) ? 'true' : 'false');
    const channel = new ChannelControl(esl);
    expect(await channel.exists(UUID)).toBe(true);
    expect(await channel.exists(OTHER)).toBe(false);
  });

  it('runs applications on the controlled channel in the order sent, event-locked', async () => {
    const esl = new RecordingEsl();
    const channel = new ChannelControl(esl);
    await channel.answer();
    await channel.setVar('RECORD_STEREO', 'true');
    await channel.recordSession('/recordings/call 1.wav');
    await channel.playQueued({ app: 'speak', arg: 'flite|slt|Hello there' });
    await channel.park();
    await channel.hangup('NORMAL_CLEARING');
    expect(esl.sent()).toEqual(['answer', 'set RECORD_STEREO=true', 'record_session /recordings/call 1.wav', 'speak flite|slt|Hello there', 'park', 'hangup NORMAL_CLEARING']);
  });

  it('a played prompt resolves with its CHANNEL_EXECUTE_COMPLETE', async () => {
    const esl = new RecordingEsl();
    const channel = new ChannelControl(esl, { uuid: UUID });
    const played = channel.play({ app: 'playback', arg: '/tts/a.wav' }, 10_000);
    await Promise.resolve();
    expect(esl.pending).toEqual([{ app: 'playback', arg: '/tts/a.wav' }]);
    expect(esl.commands[0]).toMatchObject({ kind: 'execute', uuid: UUID });
    esl.complete('playback', { 'Application-Response': 'FILE PLAYED', variable_playback_ms: '1520' });
    const complete = await played;
    expect(complete.headers.get('Application-Response')).toBe('FILE PLAYED');
    expect(complete.headers.get('variable_playback_ms')).toBe('1520');
    expect(esl.pending).toEqual([]);
  });

  it('refuses arguments that would change a command, and sends nothing', async () => {
    const esl = new RecordingEsl();
    const channel = new ChannelControl(esl);
    const refused = [
      channel.kill(`${UUID} ${OTHER}`),
      channel.breakAll(`${UUID}\napi shutdown`),
      channel.kill(UUID, 'normal clearing'),
      channel.broadcast(UUID, '/music/hold music.wav', 'aleg'),
      channel.audioForkStart(UUID, 'http://example.test/fork', 'mono', '8k'),
      channel.play({ app: 'playback', arg: '/tts/a.wav\n\nsendmsg' }, 1000),
      channel.setVar('bad name', 'x'),
      channel.setVar('ok', 'two\nlines'),
      channel.bridge('sofia/gateway/x/1\r\n', 1000),
      channel.hangup('NORMAL_CLEARING\n'),
    ];
    for (const attempt of refused) await expect(attempt).rejects.toBeInstanceOf(ChannelCommandError);
    expect(esl.commands).toEqual([]);
  });

  it('passes an api failure on to the caller', async () => {
    const esl = new RecordingEsl();
    esl.apiReply = () => new Error('ESL connection closed');
    await expect(new ChannelControl(esl).breakAll(UUID)).rejects.toThrow('ESL connection closed');
  });
});
