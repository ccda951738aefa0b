// The Speechmatics adapter through the real @speechmatics/real-time-client (and @speechmatics/auth) against
// a local server speaking the real-time protocol: what the service is asked for, what the call hears back,
// and what happens when the socket drops, the service stays down, or the call ends.
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SttUnavailableError } from '../../src/core/errors.ts';
import type { SttEvent, SttStream } from '../../src/core/voice-ports.ts';
import { loadVocabulary, SpeechmaticsStt, type SpeechmaticsSttOptions } from '../../src/voice/stt/index.ts';
import { WebSocket } from 'ws';
import { SpeechmaticsPeer } from '../../src/peers/speechmatics-peer.ts';
import { encodeUtterance, silenceFrame, type SampleRate } from '../../src/simulator/spoken-audio.ts';

const vocabularyFile = fileURLToPath(new URL('../../dialplan/vocabulary.yaml', import.meta.url));
const apiKey = 'test-api-key';

/** 20 ms of 16 kHz mono PCM, every byte set to `index` so replayed frames can be told apart. */
const frame = (index: number, bytes = 640): Buffer => Buffer.alloc(bytes, index % 256);
/** The frames inside each AddAudio message the service received, by their index byte. */
const framesOf = (messages: readonly Buffer[], bytes = 640): number[][] =>
  messages.map((m) => Array.from({ length: m.length / bytes }, (_, i) => m[i * bytes] as number));
const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

let peer: SpeechmaticsPeer;
const streams: SttStream[] = [];

beforeEach(async () => {
  peer = await SpeechmaticsPeer.start({ apiKey });
});

afterEach(async () => {
  await Promise.all(streams.splice(0).map((s) => s.close()));
  await peer.close();
});

function stt(options: Partial<SpeechmaticsSttOptions> = {}): SpeechmaticsStt {
  return new SpeechmaticsStt({
    url: peer.url,
    apiKey,
    managementPlatformUrl: peer.managementUrl,
    connectTimeoutMs: 2000,
    closeTimeoutMs: 1000,
    reconnect: { attempts: 3, delaysMs: [10, 20, 40] },
    ...options,
  });
}

async function open(
  options: Partial<SpeechmaticsSttOptions> = {},
  language = 'en-US',
): Promise<{ stream: SttStream; events: SttEvent[] }> {
  const stream = await stt(options).start({ language, sampleRate: 16000, vocabulary: [] });
  streams.push(stream);
  const events: SttEvent[] = [];
  stream.onEvent((event) => events.push(event));
  return { stream, events };
}

describe('SpeechmaticsStt session start', () => {
  it('asks for raw 16-bit PCM at the call rate, conversation tuning and the practice vocabulary', async () => {
    const vocabulary = await loadVocabulary(vocabularyFile);
    const stream = await stt().start({ language: 'en-US', sampleRate: 16000, vocabulary });
    streams.push(stream);
    const session = await peer.session(0);
    expect(session.start).toMatchObject({
      message: 'StartRecognition',
      audio_format: { type: 'raw', encoding: 'pcm_s16le', sample_rate: 16000 },
      transcription_config: {
        language: 'en',
        output_locale: 'en-US',
        model: 'enhanced',
        max_delay: 0.7,
        enable_partials: true,
        conversation_config: { end_of_utterance_silence_trigger: 0.6 },
      },
    });
    const sent = (session.start?.transcription_config as { additional_vocab: { content: string; sounds_like?: string[] }[] })
      .additional_vocab;
    expect(sent).toHaveLength(vocabulary.length);
    expect(sent).toContainEqual({ content: 'Mohs', sounds_like: ['moes', 'mose', 'mohs surgery'] });
    expect(sent.map((term) => term.content)).toEqual(expect.arrayContaining(['isotretinoin', 'Dupixent', 'María López']));
  });

  it('authenticates with a temporary key fetched with the API key, a fresh one per session', async () => {
    await open();
    await open();
    expect(peer.tokenRequests).toHaveLength(2);
    expect(peer.tokenRequests[0]?.authorization).toBe(`Bearer ${apiKey}`);
    expect(peer.tokenRequests[0]?.body).toMatchObject({ ttl: 60 });
    expect((await peer.session(0)).jwt).toBe('peer-jwt-1');
    expect((await peer.session(1)).jwt).toBe('peer-jwt-2');
  });

  it('sends a Spanish call as es at 8 kHz without an English locale', async () => {
    const stream = await stt().start({ language: 'es-US', sampleRate: 8000, vocabulary: [{ content: 'Dysport' }] });
    streams.push(stream);
    const start = (await peer.session(0)).start as { audio_format: object; transcription_config: Record<string, unknown> };
    expect(start.audio_format).toEqual({ type: 'raw', encoding: 'pcm_s16le', sample_rate: 8000 });
    expect(start.transcription_config.language).toBe('es');
    expect(start.transcription_config).not.toHaveProperty('output_locale');
    expect(start.transcription_config.additional_vocab).toEqual([{ content: 'Dysport' }]);
  });

  it('refuses to start with a clear error when the API key is rejected, without retrying', async () => {
    const rejected = stt({ apiKey: 'wrong-key' }).start({ language: 'en-US', sampleRate: 16000, vocabulary: [] });
    await expect(rejected).rejects.toBeInstanceOf(SttUnavailableError);
    await expect(rejected).rejects.toMatchObject({ code: 'STT_UNAVAILABLE', retryable: false });
    expect(peer.tokenRequests).toHaveLength(1);
    expect(peer.sessions).toHaveLength(0);
  });

  it('does not retry a configuration the service refuses (Error invalid_language)', async () => {
    peer.startBehaviours.push({ kind: 'error', type: 'invalid_language', reason: 'xx is not supported' });
    const rejected = stt().start({ language: 'en-US', sampleRate: 16000, vocabulary: [] });
    await expect(rejected).rejects.toMatchObject({ code: 'STT_UNAVAILABLE', retryable: false });
    expect(peer.sessions).toHaveLength(1);
    await peer.waitFor(() => peer.openConnections === 0);
  });

  it('retries a start the service does not answer, then gives up with SttUnavailableError', async () => {
    peer.startBehaviours.push({ kind: 'silent' }, { kind: 'silent' });
    const rejected = stt({ connectTimeoutMs: 150, reconnect: { attempts: 1, delaysMs: [10] } }).start({
      language: 'en-US',
      sampleRate: 16000,
      vocabulary: [],
    });
    await expect(rejected).rejects.toMatchObject({ code: 'STT_UNAVAILABLE', retryable: true });
    expect(peer.sessions).toHaveLength(2);
    await peer.waitFor(() => peer.openConnections === 0);
  });

  it('starts on a later attempt when the service is briefly unavailable', async () => {
    peer.startBehaviours.push({ kind: 'error', type: 'job_error', reason: 'busy' });
    const { stream } = await open();
    expect(peer.sessions).toHaveLength(2);
    expect(stream.sendAudio(frame(1))).toBe(true);
    await (await peer.session(1)).waitFor(() => (peer.sessions[1]?.frames.length ?? 0) === 1);
  });
});

describe('SpeechmaticsStt transcripts', () => {
  it('turns partials, finals and end of utterance into call events, in order', async () => {
    const { stream, events } = await open();
    const session = await peer.session(0);
    session.atBytes(640 * 5, (s) => {
      s.partial('', 0, 0.1); // the service's "nothing yet": not speech
      s.partial('I need to', 0.1, 0.5);
      s.partial('I need to reschedule my', 0.1, 0.9);
      s.final('I need to reschedule my Mohs appointment.', 0.1, 1.4, 0.9);
      s.endOfUtterance(2.0);
    });
    for (let i = 0; i < 5; i += 1) stream.sendAudio(frame(i));
    await session.waitFor(() => session.bytes === 640 * 5);
    await expect.poll(() => events.length).toBe(4);
    expect(events).toEqual([
      { type: 'partial', text: 'I need to', startSec: 0.1, endSec: 0.5 },
      { type: 'partial', text: 'I need to reschedule my', startSec: 0.1, endSec: 0.9 },
      { type: 'final', text: 'I need to reschedule my Mohs appointment.', confidence: 0.9, startSec: 0.1, endSec: 1.4 },
      { type: 'end_of_utterance', atSec: 2 },
    ]);
  });

  it('keeps the audio byte for byte and in order', async () => {
    const { stream } = await open();
    const session = await peer.session(0);
    for (let i = 0; i < 50; i += 1) stream.sendAudio(frame(i));
    await session.waitFor(() => session.bytes === 50 * 640);
    expect(framesOf(session.frames).flat()).toEqual(range(0, 50));
  });

  it('a listener that throws does not stop the others', async () => {
    const { stream, events } = await open();
    stream.onEvent(() => {
      throw new Error('listener bug');
    });
    const session = await peer.session(0);
    session.final('hello', 0, 0.5);
    await expect.poll(() => events.length).toBe(1);
  });
});

describe('SpeechmaticsStt audio batching', () => {
  it('sends N frames as ceil(N/k) AddAudio messages of k frames, in order (60 ms at 16 kHz, 100 ms at 8 kHz)', async () => {
    const { stream } = await open();
    const wide = await peer.session(0);
    for (let i = 0; i < 10; i += 1) stream.sendAudio(frame(i));
    await wide.waitFor(() => wide.frames.length === 3);
    expect(framesOf(wide.frames)).toEqual([[0, 1, 2], [3, 4, 5], [6, 7, 8]]);
    expect(wide.frames.map((m) => m.length)).toEqual([1920, 1920, 1920]);
    await stream.close();
    expect(framesOf(wide.frames).at(-1)).toEqual([9]);

    const narrow = await stt({ audioBatchMs: 100 }).start({ language: 'en-US', sampleRate: 8000, vocabulary: [] });
    streams.push(narrow);
    const session = await peer.session(1);
    for (let i = 0; i < 12; i += 1) narrow.sendAudio(frame(i, 320));
    await narrow.close();
    expect(framesOf(session.frames, 320)).toEqual([range(0, 5), range(5, 10), [10, 11]]);
    expect(session.endOfStream).toEqual({ last_seq_no: 3 });
  });

  it('sends an unfilled batch once its oldest frame has waited the batch length, without waiting for more audio', async () => {
    const { stream } = await open({ audioBatchMs: 100 });
    const session = await peer.session(0);
    stream.sendAudio(frame(1));
    stream.sendAudio(frame(2));
    await session.waitFor(() => session.frames.length === 1);
    expect(framesOf(session.frames)).toEqual([[1, 2]]);
    expect(session.endOfStream).toBeUndefined();
    // The next frame starts a new batch.
    stream.sendAudio(frame(3));
    await session.waitFor(() => session.frames.length === 2);
    expect(framesOf(session.frames)).toEqual([[1, 2], [3]]);
  });

  it('sends every frame as its own message with audioBatchMs 20', async () => {
    const { stream } = await open({ audioBatchMs: 20 });
    const session = await peer.session(0);
    for (let i = 0; i < 4; i += 1) stream.sendAudio(frame(i));
    await session.waitFor(() => session.frames.length === 4);
    expect(framesOf(session.frames)).toEqual([[0], [1], [2], [3]]);
  });

  it('refuses a batch length that is not whole 20 ms frames up to 100 ms', () => {
    for (const audioBatchMs of [0, 10, 50, 120]) expect(() => stt({ audioBatchMs })).toThrow(RangeError);
  });
});

describe('SpeechmaticsStt reconnect', () => {
  it('replays exactly the unacknowledged audio into a new session after a drop, then live audio', async () => {
    const { stream, events } = await open();
    const first = await peer.session(0);
    // 60 ms batches: frames 0..14 are five messages, all acknowledged.
    for (let i = 0; i < 15; i += 1) stream.sendAudio(frame(i));
    await first.waitFor(() => first.frames.length === 5);
    first.ackAudio = false; // frames 15..20 (two messages) reach the service but are never acknowledged
    for (let i = 15; i < 21; i += 1) stream.sendAudio(frame(i));
    await first.waitFor(() => first.frames.length === 7);
    first.drop();
    // Audio keeps coming while the stream reconnects: it is batched and buffered, not lost.
    await peer.waitFor(() => peer.sessions.length === 2 || first.closed);
    for (let i = 21; i < 24; i += 1) expect(stream.sendAudio(frame(i))).toBe(true);

    const second = await peer.session(1);
    for (let i = 24; i < 26; i += 1) stream.sendAudio(frame(i));
    await second.waitFor(() => second.bytes === 640 * 11);
    // The same two messages again, the one batched during the outage, then live audio (its last batch short,
    // sent by the batch timer).
    expect(framesOf(second.frames)).toEqual([[15, 16, 17], [18, 19, 20], [21, 22, 23], [24, 25]]);
    expect(second.start).toEqual(first.start);

    // The new session's clock starts at frame 15 (0.3 s into the call): times stay on the call's timeline.
    second.final('biopsy results', 0.1, 0.5);
    await expect.poll(() => events.at(-1)).toEqual({ type: 'final', text: 'biopsy results', confidence: 0.95, startSec: 0.4, endSec: 0.8 });
    expect(events.some((e) => e.type === 'failed')).toBe(false);

    // The new session's sequence numbers count its messages, the replayed ones included.
    await stream.close();
    expect(second.endOfStream).toEqual({ last_seq_no: 4 });
  });

  it('keeps at most replayBufferMs of audio for replay, dropping the oldest message', async () => {
    const { stream } = await open({ audioBatchMs: 40, replayBufferMs: 120 });
    const first = await peer.session(0);
    first.ackAudio = false;
    const accepted: boolean[] = [];
    for (let i = 0; i < 8; i += 1) {
      accepted.push(stream.sendAudio(frame(i)));
      await Promise.resolve(); // the end of the I/O callback a frame arrives in: a full batch is sent
    }
    // Backed up once 120 ms are unacknowledged (after the third batch), told with the frame after it.
    expect(accepted).toEqual([true, true, true, true, true, true, false, false]);
    await first.waitFor(() => first.frames.length === 4);
    first.drop();
    const second = await peer.session(1);
    await second.waitFor(() => second.frames.length === 3);
    expect(framesOf(second.frames)).toEqual([[2, 3], [4, 5], [6, 7]]);
  });

  it('reconnects after a non-fatal service Error mid-call', async () => {
    const { stream, events } = await open();
    const first = await peer.session(0);
    stream.sendAudio(frame(1));
    await first.waitFor(() => first.frames.length === 1);
    first.error('job_error', 'worker restarted');
    const second = await peer.session(1);
    stream.sendAudio(frame(2));
    await second.waitFor(() => second.frames.length === 1);
    expect(second.frames[0]?.[0]).toBe(2);
    expect(events).toEqual([]);
    await first.waitFor(() => first.closed);
  });

  it('emits failed once when the service stays down past the reconnect limit; audio is then refused', async () => {
    const { stream, events } = await open({ reconnect: { attempts: 2, delaysMs: [10, 10] } });
    const first = await peer.session(0);
    stream.sendAudio(frame(1));
    await first.waitFor(() => first.frames.length === 1);
    peer.refuseConnections = true;
    first.drop();
    await expect.poll(() => events).toEqual([{ type: 'failed', reason: expect.stringContaining('socket closed') }]);
    expect(stream.sendAudio(frame(2))).toBe(false);
    expect(peer.sessions).toHaveLength(1);
    await stream.close();
    expect(events).toHaveLength(1);
  });

  it('fails at once on a fatal service Error mid-call (not_authorised)', async () => {
    const { stream, events } = await open();
    const first = await peer.session(0);
    first.error('not_authorised', 'key revoked');
    await expect.poll(() => events).toEqual([{ type: 'failed', reason: expect.stringContaining('not_authorised') }]);
    expect(peer.sessions).toHaveLength(1);
    await peer.waitFor(() => peer.openConnections === 0);
    expect(stream.sendAudio(frame(1))).toBe(false);
  });

  it('close() during the reconnect back-off returns at once and opens no new session', async () => {
    const warnings: string[] = [];
    const logger = { info: () => undefined, error: () => undefined, warn: (_: object, message: string) => warnings.push(message) };
    const { stream, events } = await open({ reconnect: { attempts: 1, delaysMs: [60_000] }, logger });
    const first = await peer.session(0);
    first.drop();
    await expect.poll(() => warnings).toContain('Speechmatics session lost; reconnecting');
    stream.sendAudio(frame(1));
    await stream.close();
    expect(peer.sessions).toHaveLength(1);
    expect(events).toEqual([]);
  });
});

describe('SpeechmaticsStt close', () => {
  it('sends the unfilled batch, then EndOfStream with the number of messages sent, the last transcript, and closes', async () => {
    const { stream, events } = await open();
    const session = await peer.session(0);
    session.beforeEndOfTranscript = (s) => s.final('Thank you.', 1.0, 1.3);
    for (let i = 0; i < 7; i += 1) stream.sendAudio(frame(i));
    await stream.close();
    // Two full 60 ms batches and the last frame on its own, sent by close() before EndOfStream.
    expect(framesOf(session.frames)).toEqual([[0, 1, 2], [3, 4, 5], [6]]);
    expect(session.endOfStream).toEqual({ last_seq_no: 3 });
    expect(events).toEqual([{ type: 'final', text: 'Thank you.', confidence: 0.95, startSec: 1, endSec: 1.3 }]);
    await peer.waitFor(() => peer.openConnections === 0);
  });

  it('waits (bounded) for late acknowledgements so last_seq_no counts every message', async () => {
    const { stream } = await open();
    const session = await peer.session(0);
    session.ackAudio = false;
    for (let i = 0; i < 9; i += 1) stream.sendAudio(frame(i));
    await session.waitFor(() => session.frames.length === 3);
    const closing = stream.close();
    setTimeout(() => session.releaseAcks(), 50);
    await closing;
    expect(session.endOfStream).toEqual({ last_seq_no: 3 });
  });

  it('counts only the messages of the current session after a reconnect', async () => {
    const { stream } = await open();
    const first = await peer.session(0);
    for (let i = 0; i < 6; i += 1) stream.sendAudio(frame(i));
    await first.waitFor(() => first.frames.length === 2);
    first.drop();
    const second = await peer.session(1);
    for (let i = 6; i < 8; i += 1) stream.sendAudio(frame(i));
    await second.waitFor(() => second.frames.length === 1);
    await stream.close();
    expect(second.endOfStream).toEqual({ last_seq_no: 1 });
  });

  it('is idempotent and bounded when the service never sends EndOfTranscript; no socket is left open', async () => {
    const { stream, events } = await open({ closeTimeoutMs: 200 });
    const session = await peer.session(0);
    session.answerEndOfStream = false;
    stream.sendAudio(frame(1));
    const first = stream.close();
    const second = stream.close();
    expect(second).toBe(first);
    await first;
    expect(session.endOfStream).toEqual({ last_seq_no: 1 });
    await peer.waitFor(() => peer.openConnections === 0);
    session.final('too late', 0, 1);
    expect(stream.sendAudio(frame(2))).toBe(false);
    expect(events).toEqual([]);
  });

  it('leaves nothing open after many calls', async () => {
    const opened = await Promise.all(Array.from({ length: 20 }, () => open()));
    for (const [i, { stream }] of opened.entries()) stream.sendAudio(frame(i));
    await Promise.all(opened.map(({ stream }) => stream.close()));
    expect(peer.sessions).toHaveLength(20);
    expect(peer.sessions.every((s) => s.endOfStream?.last_seq_no === 1)).toBe(true);
    await peer.waitFor(() => peer.openConnections === 0);
  });
});

describe('SpeechmaticsPeer transcribing spoken audio (transcribeSpokenAudio)', () => {
  beforeEach(async () => {
    await peer.close();
    peer = await SpeechmaticsPeer.start({ apiKey, transcribeSpokenAudio: true });
  });

  /** `silentBefore` frames of silence, the sentence, then `silentAfter` frames of silence. */
  function spoken(text: string, rate: SampleRate, silentBefore: number, silentAfter: number): Buffer[] {
    const silence = (n: number, from: number): Buffer[] => Array.from({ length: n }, (_, i) => silenceFrame(rate, from + i));
    return [...silence(silentBefore, 0), ...encodeUtterance(text, rate), ...silence(silentAfter, silentBefore)];
  }

  it('hears a sentence: growing partials while it is said, the final when the voice stops, then end of utterance', async () => {
    const { stream, events } = await open();
    // 0.2 s of silence, 36 characters said in 2.34 s (117 frames), then 0.8 s of silence.
    for (const f of spoken('I need to reschedule my appointment.', 16000, 10, 40)) stream.sendAudio(f);
    await expect.poll(() => events.at(-1)?.type).toBe('end_of_utterance');
    expect(events.filter((e) => e.type === 'partial').map((e) => e.text)).toEqual([
      'I',
      'I need',
      'I need to',
      'I need to',
      'I need to reschedule',
      'I need to reschedule my',
    ]);
    // Times are audio time: the first partial covers the first 0.6 s of the sentence (frames 10..39).
    expect(events[0]).toEqual({ type: 'partial', text: 'I', startSec: 0.2, endSec: 0.8 });
    expect(events.slice(-2)).toEqual([
      { type: 'final', text: 'I need to reschedule my appointment.', confidence: 0.95, startSec: 0.2, endSec: 2.54 },
      // The session asked for end_of_utterance_silence_trigger 0.6: 0.6 s after the voice stopped.
      { type: 'end_of_utterance', atSec: 3.14 },
    ]);
  });

  it('waits for the silence trigger the client asked for, and says nothing about silence alone', async () => {
    const { stream, events } = await open({ enablePartials: false, endOfUtteranceSilenceSec: 1.2 });
    for (const f of spoken('Yes.', 16000, 50, 70)) stream.sendAudio(f);
    await expect.poll(() => events.at(-1)?.type).toBe('end_of_utterance');
    // 'Yes.' lasts the minimum 0.4 s (frames 50..69); 1.2 s of silence later comes the end of utterance.
    expect(events).toEqual([
      { type: 'final', text: 'Yes.', confidence: 0.95, startSec: 1, endSec: 1.4 },
      { type: 'end_of_utterance', atSec: 2.6 },
    ]);
  });

  it('mishears a hard medical word unless the session vocabulary has it', async () => {
    const sentence = 'Is isotretinoin safe with Dupixent?';
    const without = await stt().start({ language: 'en-US', sampleRate: 8000, vocabulary: [] });
    const withVocab = await stt().start({
      language: 'en-US',
      sampleRate: 8000,
      vocabulary: [{ content: 'isotretinoin' }, { content: 'Dupixent', soundsLike: ['do pix ent'] }],
    });
    streams.push(without, withVocab);
    const heard: Record<string, SttEvent[]> = { without: [], withVocab: [] };
    without.onEvent((e) => heard.without?.push(e));
    withVocab.onEvent((e) => heard.withVocab?.push(e));
    for (const f of spoken(sentence, 8000, 5, 5)) {
      without.sendAudio(f);
      withVocab.sendAudio(f);
    }
    const finalOf = (events: SttEvent[] | undefined) => events?.find((e) => e.type === 'final');
    await expect.poll(() => finalOf(heard.without) !== undefined && finalOf(heard.withVocab) !== undefined).toBe(true);
    expect(finalOf(heard.withVocab)).toMatchObject({ text: sentence, confidence: 0.95 });
    const misheard = finalOf(heard.without);
    expect(misheard).toMatchObject({ text: 'Is eye so tret in oh in safe with do picks sent?' });
    expect(misheard?.type === 'final' && misheard.confidence).toBeLessThan(0.7);
  });

  it('sends AddTranscript in the real message shape: words with alternatives, punctuation attached', async () => {
    await peer.close();
    peer = await SpeechmaticsPeer.start({ transcribeSpokenAudio: true });
    const ws = new WebSocket(peer.url);
    const messages: Record<string, unknown>[] = [];
    ws.on('message', (data: Buffer) => messages.push(JSON.parse(data.toString('utf8')) as Record<string, unknown>));
    await new Promise((resolve) => ws.once('open', resolve));
    ws.send(JSON.stringify({
      message: 'StartRecognition',
      audio_format: { type: 'raw', encoding: 'pcm_s16le', sample_rate: 8000 },
      transcription_config: { language: 'es', enable_partials: true },
    }));
    // Several frames per message: the peer cuts the audio into 20 ms frames itself.
    ws.send(Buffer.concat(spoken('¿Hola, María?', 8000, 0, 35)));
    await expect.poll(() => messages.some((m) => m.message === 'EndOfUtterance')).toBe(true);
    ws.close();
    const final = messages.find((m) => m.message === 'AddTranscript');
    expect(final?.metadata).toEqual({ start_time: 0, end_time: 0.86, transcript: '¿Hola, María?' });
    const results = final?.results as { type: string; attaches_to?: string; alternatives: { content: string }[] }[];
    expect(results.map((r) => [r.type, r.alternatives[0]?.content, r.attaches_to])).toEqual([
      ['punctuation', '¿', 'next'],
      ['word', 'Hola', undefined],
      ['punctuation', ',', 'previous'],
      ['word', 'María', undefined],
      ['punctuation', '?', 'previous'],
    ]);
    expect(results[1]).toMatchObject({ start_time: 0, end_time: 0.43, alternatives: [{ content: 'Hola', confidence: 0.95, language: 'es' }] });
    expect(messages.find((m) => m.message === 'EndOfUtterance')).toMatchObject({ metadata: { start_time: 1.46, end_time: 1.46 } });
  });
});
