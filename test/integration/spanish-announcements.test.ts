// A Spanish line's recording announcement is said in Spanish: the routing file's text goes through Google
// TTS with the Spanish voice (the stand-in sees the es-US request), is cached before the first call (and again
// when an edit changes it), and FreeSWITCH plays the file before the greeting or the bridge. FreeSWITCH's own
// voice (mod_flite, US English only) speaks it only when TTS cannot, and the log says so once, without the words.
import { access, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { urgentOfferPrompt } from '../../src/core/routing/after-hours.ts';
import type { GoogleTtsPeer } from '../../src/peers/google-tts-peer.ts';
import type { SimulatedCall } from '../../src/simulator/simulator.ts';
import { eventually, TEST_ROUTING_FILE, type Harness } from '../support/controller-harness.ts';
import { useVoiceHarness } from '../support/voice-peers.ts';

const CALLER = '+15557770123';
const SPANISH_AI_LINE = '+15559870400';
const SPANISH_PEOPLE_LINE = '+15559870500';
/** A Spanish line of a location that is always closed: after hours its callers hear the on-call offer. */
const SPANISH_CLOSED_LINE = '+15559870600';
// Each test has texts of its own: the TTS cache is shared by the file's tests, like a controller's restarts.
const NOTICE = 'Esta llamada puede ser grabada para control de calidad.';
const PEOPLE_NOTICE = 'Esta llamada puede ser grabada. Le comunicamos con nuestro equipo.';
const EDITED_NOTICE = 'Esta llamada será grabada. Gracias por su paciencia.';
const DOWN_NOTICE = 'Esta llamada puede ser grabada para su expediente médico.';
const LATE_NOTICE = 'Esta llamada puede ser grabada. Un momento, por favor.';
const FALLBACK_LOG = 'TTS could not say this call';

const suite = useVoiceHarness();
let tts: GoogleTtsPeer;
let dir: string;
let routingFile: string;

/** The test routing file with a Spanish AI line and a Spanish people line, each with its announcement. */
async function writeRouting(aiNotice: string, peopleNotice: string): Promise<void> {
  const original = await readFile(TEST_ROUTING_FILE, 'utf8');
  const spanish = (mode: string, notice: string) =>
    `    location: clinic\n    mode: ${mode}\n    ring_group: front\n    language: es-US\n    recording: { enabled: true, announcement: "${notice}" }\n`;
  const lines = `  "${SPANISH_AI_LINE}":\n${spanish('ai_first', aiNotice)}  "${SPANISH_PEOPLE_LINE}":\n${spanish('humans_first', peopleNotice)}`;
  const closedLine = `  "${SPANISH_CLOSED_LINE}":\n${spanish('humans_first', peopleNotice).replace('location: clinic', 'location: closed')}`;
  const closed = '  closed:\n    name: Closed Clinic\n    timezone: America/New_York\n    hours: {}\n    after_hours:\n      target: { action: voicemail, mailbox: main }\n';
  await writeFile(routingFile, original.replace('numbers:\n', `numbers:\n${lines}${closedLine}`).replace('locations:\n', `locations:\n${closed}`));
}

beforeAll(async () => {
  tts = suite.peers.tts;
  dir = await mkdtemp(join(tmpdir(), 'callbridge-es-'));
  routingFile = join(dir, 'routing.yaml');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function start(aiNotice: string, peopleNotice: string): Promise<{ h: Harness; cacheDir: string }> {
  await writeRouting(aiNotice, peopleNotice);
  const h = await suite.start({ env: { ROUTING_FILE: routingFile } });
  return { h, cacheDir: suite.peers.env.TTS_CACHE_DIR! };
}

const requestsFor = (text: string) => tts.requests.filter((r) => r.input.text === text);
const spoken = (call: SimulatedCall) => call.applications.filter((a) => a.app === 'speak');

// The first controller of the file synthesizes every fixed prompt into the fresh cache: slow on a busy machine.
describe('announcements on a Spanish line', { timeout: 60_000 }, () => {
  it('an AI line plays the announcement synthesized with the Spanish voice, cached before the call, then the greeting', async () => {
    tts.requests.length = 0;
    const { h, cacheDir } = await start(NOTICE, PEOPLE_NOTICE);
    // Cached when routing loaded: the first caller does not wait for Google.
    expect(requestsFor(NOTICE).map((r) => r.voice)).toEqual([{ languageCode: 'es-US', name: 'es-US-Neural2-A' }]);

    const call = h.simulator.placeCall({ from: CALLER, to: SPANISH_AI_LINE, say: [] });
    await eventually(() => call.playbacks.length >= 2, 'the announcement and the greeting', 10_000);
    call.hangup();
    await eventually(() => suite.sessions.length === 1, 'the session');
    await suite.sessions[0]!.done;

    const apps = call.applications.map((a) => a.app);
    expect(apps.slice(0, 4)).toEqual(['socket', 'answer', 'set', 'record_session']);
    const first = call.applications[4]!;
    expect(first.app).toBe('playback');
    expect(first.arg!.startsWith(cacheDir)).toBe(true);
    await access(first.arg!);
    // Heard first, then the agent's greeting (another TTS file).
    expect(call.playbacks[0]!.path).toBe(first.arg);
    expect(call.playbacks[1]!.path).not.toBe(first.arg);
    expect(spoken(call)).toEqual([]);
    // Played from the cache: no second synthesis for the call.
    expect(requestsFor(NOTICE)).toHaveLength(1);
  });

  it('a people line plays the Spanish announcement before the bridge, and an edit to the text is cached when routing reloads', async () => {
    tts.requests.length = 0;
    const { h, cacheDir } = await start(NOTICE, PEOPLE_NOTICE);
    expect(requestsFor(EDITED_NOTICE)).toEqual([]);
    await writeRouting(NOTICE, EDITED_NOTICE);
    await h.controller.routing.reload();
    await eventually(() => requestsFor(EDITED_NOTICE).length === 1, 'the edited announcement synthesized after the reload');
    expect(requestsFor(EDITED_NOTICE)[0]!.voice.languageCode).toBe('es-US');
    // Wait until the file is written, as a call arriving a moment later would find it.
    const file = h.controller.voice!.tts.pathFor({ text: EDITED_NOTICE, voice: 'es-US-Neural2-A', language: 'es-US', sampleRate: 16000 });
    expect(file.startsWith(cacheDir)).toBe(true);
    await eventually(() => access(file).then(() => true, () => false), 'the edited announcement in the cache');

    const call = h.simulator.placeCall({ from: CALLER, to: SPANISH_PEOPLE_LINE, say: [] });
    await eventually(() => suite.sessions[0]?.state === 'bridged', 'the caller bridged to an agent', 10_000);
    call.hangup();
    await suite.sessions[0]!.done;

    const apps = call.applications.map((a) => a.app);
    expect(apps).toEqual(['socket', 'answer', 'set', 'record_session', 'playback', 'bridge']);
    expect(call.applications[4]!.arg).toBe(file);
    expect(call.playbacks[0]).toMatchObject({ path: file, status: 'done' });
    expect(spoken(call)).toEqual([]);
    expect(requestsFor(EDITED_NOTICE)).toHaveLength(1);
  });

  it('with TTS down, FreeSWITCH’s own voice says the announcement, before the greeting, and the log says so once without the text', async () => {
    tts.requests.length = 0;
    tts.failNext = 1_000_000;
    try {
      const { h } = await start(DOWN_NOTICE, DOWN_NOTICE);
      const call = h.simulator.placeCall({ from: CALLER, to: SPANISH_AI_LINE, say: [] });
      await eventually(() => call.playbacks.length >= 2, 'the announcement and the holding prompt', 10_000);
      call.hangup();
      await eventually(() => suite.sessions.length === 1, 'the session');
      await suite.sessions[0]!.done;

      expect(call.applications[4]).toMatchObject({ app: 'speak', arg: `flite|slt|${DOWN_NOTICE}` });
      // TTS was asked first (at load and again for the call), in Spanish.
      expect(requestsFor(DOWN_NOTICE).length).toBeGreaterThanOrEqual(2);
      expect(requestsFor(DOWN_NOTICE).every((r) => r.voice.languageCode === 'es-US')).toBe(true);
      const callId = suite.sessions[0]!.callId;
      const noted = h.logLines.filter((l) => l.includes(FALLBACK_LOG) && l.includes(callId));
      expect(noted).toHaveLength(1);
      expect(h.logLines.some((l) => l.includes(DOWN_NOTICE))).toBe(false);
    } finally {
      tts.failNext = 0;
    }
  });

  it('TTS down when routing loaded and back for the call: the answer waits for the Spanish file, then the bridge follows it', async () => {
    tts.requests.length = 0;
    tts.failNext = 1_000_000;
    let h: Harness;
    let cacheDir: string;
    try {
      ({ h, cacheDir } = await start(NOTICE, LATE_NOTICE));
    } finally {
      tts.failNext = 0;
    }
    expect(requestsFor(LATE_NOTICE)).toHaveLength(1);
    const call = h.simulator.placeCall({ from: CALLER, to: SPANISH_PEOPLE_LINE, say: [] });
    await eventually(() => suite.sessions[0]?.state === 'bridged', 'the caller bridged to an agent', 10_000);
    call.hangup();
    await suite.sessions[0]!.done;

    expect(call.applications.map((a) => a.app)).toEqual(['socket', 'answer', 'set', 'record_session', 'playback', 'bridge']);
    expect(call.applications[4]!.arg!.startsWith(cacheDir)).toBe(true);
    expect(call.playbacks[0]).toMatchObject({ path: call.applications[4]!.arg, status: 'done' });
    expect(requestsFor(LATE_NOTICE).map((r) => r.voice.languageCode)).toEqual(['es-US', 'es-US']);
    expect(h.logLines.some((l) => l.includes('TTS could not say this call'))).toBe(false);
  });

  it('after hours, a Spanish line hears the announcement and then the on-call offer in Spanish, from the cache', async () => {
    tts.requests.length = 0;
    const { h, cacheDir } = await start(NOTICE, PEOPLE_NOTICE);
    const offer = urgentOfferPrompt('es-US', '1');
    expect(offer).toMatch(/proveedor de guardia/);
    const file = h.controller.voice!.tts.pathFor({ text: offer, voice: 'es-US-Neural2-A', language: 'es-US', sampleRate: 16000 });
    expect(file.startsWith(cacheDir)).toBe(true);
    const asked = tts.requests.length;
    const call = h.simulator.placeCall({ from: CALLER, to: SPANISH_CLOSED_LINE, say: [] });
    await eventually(() => call.applications.some((a) => a.arg === file), 'the on-call offer played', 10_000);
    call.sendDtmf('2');
    await eventually(() => suite.sessions[0]?.state === 'bridged', 'the caller with the mailbox', 10_000);
    call.hangup();
    await suite.sessions[0]!.done;

    const played = call.applications.filter((a) => a.app === 'playback').map((a) => a.arg);
    expect(played.slice(0, 2)).toEqual([h.controller.voice!.tts.pathFor({ text: PEOPLE_NOTICE, voice: 'es-US-Neural2-A', language: 'es-US', sampleRate: 16000 }), file]);
    expect(spoken(call)).toEqual([]);
    // Both were in the cache before the call: Google was not asked during it.
    expect(tts.requests.length).toBe(asked);
  });
});
