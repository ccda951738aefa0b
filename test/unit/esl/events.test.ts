// What the controller reads out of FreeSWITCH's messages, case by case, from the recorded traces.
import { describe, expect, it } from 'vitest';
import {
  EslFrameParser,
  isEventFrame,
  parseEvent,
  parseOutboundConnectReply,
  type EslEvent,
  type EslFrame,
} from '../../../src/esl/protocol/index.ts';
import { EslProtocolError } from '../../../src/core/errors.ts';
import { loadTrace } from './traces.ts';

function framesOf(name: string): EslFrame[] {
  return new EslFrameParser().push(loadTrace(name).bytes);
}

function eventsOf(name: string): EslEvent[] {
  return framesOf(name).filter(isEventFrame).map(parseEvent);
}

function byName(events: EslEvent[], name: string): EslEvent[] {
  return events.filter((e) => e.name === name);
}

describe('plain events', () => {
  const events = eventsOf('inbound-event-plain-call1000');

  it('decodes URL-encoded values', () => {
    const create = byName(events, 'CHANNEL_CREATE')[0];
    expect(create?.headers.get('Channel-Name')).toBe('sofia/fsref/sipp@127.0.0.1:5070');
    expect(create?.headers.get('FreeSWITCH-IPv6')).toBe('fd00::2');
    expect(create?.headers.get('Event-Date-GMT')).toMatch(/^\w{3}, \d{2} \w{3} 2026 /);
  });

  it('keeps both Hangup-Cause headers of CHANNEL_HANGUP_COMPLETE', () => {
    const complete = byName(events, 'CHANNEL_HANGUP_COMPLETE')[0];
    expect(complete?.headers.getAll('Hangup-Cause')).toEqual(['NORMAL_CLEARING', 'NORMAL_CLEARING']);
    expect(complete?.headers.get('Hangup-Cause')).toBe('NORMAL_CLEARING');
  });

  it('keeps the repeated codec headers of CODEC events', () => {
    const codec = byName(events, 'CODEC')[1];
    expect(codec?.headers.getAll('Channel-Write-Codec-Name')).toEqual(['PCMU', 'PCMU']);
    expect(codec?.headers.getAll('Channel-Write-Codec-Rate')).toHaveLength(2);
    const names = codec?.headers.entries().map(([n]) => n) ?? [];
    expect(new Set(names).size).toBeLessThan(names.length);
  });

  it('names the channel and the application of execute events', () => {
    const exec = byName(events, 'CHANNEL_EXECUTE_COMPLETE').map((e) => e.headers.get('Application'));
    expect(exec).toEqual(['answer', 'record_session', 'playback', 'sleep', 'hangup']);
    expect(events.every((e) => e.uniqueId === events[0]?.uniqueId)).toBe(true);
  });

  it('DTMF digits: # arrives as %23 and is decoded, * as is', () => {
    const digits = eventsOf('inbound-dtmf-rfc2833-call5000-plain')
      .filter((e) => e.name === 'DTMF')
      .map((e) => e.headers.get('DTMF-Digit'));
    expect(digits.slice(0, 6)).toEqual(['1', '2', '3', '#', '*', '9']);
  });

  it('PRIVATE_COMMAND: the event does not start with Event-Name', () => {
    const privates = byName(eventsOf('outbound-socket-call2000-eventlock-bridge-plain'), 'PRIVATE_COMMAND');
    expect(privates.length).toBeGreaterThan(0);
    const first = privates[0] as EslEvent;
    expect(first.headers.entries()[0]?.[0]).toBe('Command');
    expect(first.headers.get('Command')).toMatch(/^sendmsg\ncall-command: execute\n/);
    expect(first.headers.get('execute-app-name')).toBeDefined();
  });

  it('COMMAND after uuid_broadcast: first Event-Name names it, both are kept', () => {
    const commands = byName(eventsOf('inbound-media-control-call4100-plain'), 'COMMAND');
    expect(commands.length).toBe(3);
    expect(commands[0]?.headers.getAll('Event-Name')).toEqual(['COMMAND', 'PRIVATE_COMMAND']);
    expect(commands[0]?.headers.get('execute-app-name')).toBe('playback');
  });

  it('BACKGROUND_JOB: the result is the body, not more headers', () => {
    const jobs = byName(eventsOf('inbound-bgapi-plain'), 'BACKGROUND_JOB');
    expect(jobs).toHaveLength(5);
    expect(jobs[0]?.body).toMatch(/^UP 0 years/);
    expect(jobs[0]?.headers.has('FreeSWITCH (Version 1.10.12-release  64bit) is ready')).toBe(false);
    expect(jobs[1]?.headers.get('Job-UUID')).toBe('d3a7b5c4-0000-4000-8000-00000000cafe');
    expect(jobs[2]?.body).toBe('-ERR bogus_command Command not found!\n');
  });

  it('CUSTOM events: subclass read although it comes before Event-Name', () => {
    const custom = eventsOf('audio-fork-esl').filter((e) => e.name === 'CUSTOM');
    expect(custom.map((e) => e.subclass)).toContain('mod_audio_fork::connect');
    expect(custom.every((e) => e.subclass?.startsWith('mod_audio_fork::'))).toBe(true);
  });
});

describe('json events', () => {
  it('keeps duplicate keys (JSON.parse would drop them)', () => {
    const complete = byName(eventsOf('inbound-event-json-call1000'), 'CHANNEL_HANGUP_COMPLETE')[0];
    expect(complete?.format).toBe('json');
    expect(complete?.headers.getAll('Hangup-Cause')).toEqual(['NORMAL_CLEARING', 'NORMAL_CLEARING']);
    expect(complete?.headers.get('FreeSWITCH-IPv6')).toBe('fd00::2');
  });

  it('BACKGROUND_JOB: _body becomes the body, same text as the plain form', () => {
    const json = byName(eventsOf('inbound-bgapi-json'), 'BACKGROUND_JOB').map((e) => e.body);
    const plain = byName(eventsOf('inbound-bgapi-plain'), 'BACKGROUND_JOB').map((e) => e.body);
    expect(json[2]).toBe(plain[2]);
    expect(json[3]).toBe('-ERR No such channel!\n');
    expect(byName(eventsOf('inbound-bgapi-json'), 'BACKGROUND_JOB')[0]?.headers.has('_body')).toBe(false);
  });

  it('same events, same names and channels as the plain capture of the same call flow', () => {
    const json = eventsOf('inbound-event-json-call1000').map((e) => e.name);
    const plain = eventsOf('inbound-event-plain-call1000').map((e) => e.name);
    expect(json).toEqual(plain);
  });
});

describe('xml events', () => {
  it('reads headers and URL-decodes their values', () => {
    const events = eventsOf('inbound-event-xml-call1000');
    expect(events.map((e) => e.name)).toEqual(eventsOf('inbound-event-plain-call1000').map((e) => e.name));
    const create = byName(events, 'CHANNEL_CREATE')[0];
    expect(create?.format).toBe('xml');
    expect(create?.headers.get('Channel-Name')).toBe('sofia/fsref/sipp@127.0.0.1:5070');
    expect(create?.uniqueId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('reads a body and XML entities', () => {
    const body = Buffer.from(
      '<event>\n  <headers>\n    <Event-Name>CUSTOM</Event-Name>\n    <Event-Subclass>a%3A%3Ab</Event-Subclass>\n' +
        '    <X>1 &amp; 2</X>\n  </headers>\n  <body>{&quot;k&quot;:1}</body>\n</event>\n',
    );
    const event = parseEvent({ headers: undefined as never, body, contentType: 'text/event-xml' });
    expect(event.subclass).toBe('a::b');
    expect(event.headers.get('X')).toBe('1 & 2');
    expect(event.body).toBe('{"k":1}');
  });
});

describe('replies and notices', () => {
  it('outbound connect reply: Reply-Text decoded to "+OK\\n", channel data parsed', () => {
    const connect = framesOf('outbound-socket-call2000-linger-plain')[0] as EslFrame;
    expect(connect.contentType).toBe('command/reply');
    expect(connect.headers.get('Reply-Text')).toBe('+OK\n');
    expect(connect.headers.get('Socket-Mode')).toBe('async');
    const data = parseOutboundConnectReply(connect);
    expect(data.name).toBe('CHANNEL_DATA');
    expect(data.uniqueId).toBe('d211ad8e-13e2-4d20-a3aa-3a3354b073e1');
    expect(data.headers.get('Caller-Caller-ID-Number')).toBe('sipp');
    expect(data.headers.get('Caller-Destination-Number')).toBe('2000');
    expect(data.headers.get('Channel-Name')).toBe('sofia/fsref/sipp@127.0.0.1:5070');
  });

  it('a reply text containing ": " is kept whole', () => {
    const replies = framesOf('inbound-bgapi-plain').filter((f) => f.contentType === 'command/reply');
    expect(replies.map((f) => f.headers.get('Reply-Text'))).toContain(
      '+OK Job-UUID: d3a7b5c4-0000-4000-8000-00000000cafe',
    );
  });

  it('linger and disconnect notices', () => {
    const notices = framesOf('outbound-socket-call2000-linger-plain').filter(
      (f) => f.contentType === 'text/disconnect-notice',
    );
    expect(notices.map((f) => f.headers.get('Content-Disposition'))).toEqual(['linger', 'disconnect']);
    expect(notices[0]?.headers.get('Linger-Time')).toBe('-1');
    expect(notices[0]?.body?.length).toBe(0);
    expect(notices[1]?.body?.toString()).toMatch(/^Disconnected, goodbye\./);
    const inbound = framesOf('inbound-auth-wrong-password');
    expect(inbound.map((f) => f.contentType)).toEqual(['auth/request', 'command/reply', 'text/disconnect-notice']);
    expect(inbound[1]?.headers.get('Reply-Text')).toBe('-ERR invalid');
  });

  it('log/data frames: level and channel in the outer headers, one line of body', () => {
    const logs = framesOf('inbound-log7').filter((f) => f.contentType === 'log/data');
    expect(logs).toHaveLength(116);
    expect(logs[0]?.headers.get('Log-Level')).toBe('7');
    expect(logs[0]?.headers.get('User-Data')).toBe('');
    expect(logs.every((f) => f.body?.toString().endsWith('\n'))).toBe(true);
    expect(logs.some((f) => isEventFrame(f))).toBe(false);
  });

  it('api responses without a trailing newline keep their exact body', () => {
    const bodies = framesOf('inbound-api-commands')
      .filter((f) => f.contentType === 'api/response')
      .map((f) => f.body?.toString());
    expect(bodies).toContain('true');
    expect(bodies).toContain('{"row_count": 0}\n');
  });
});

describe('framing errors', () => {
  it('a Content-Length that is not a number is a protocol error', () => {
    expect(() => new EslFrameParser().push(Buffer.from('Content-Length: x\n\n'))).toThrow(EslProtocolError);
  });

  it('an endless header block is a protocol error', () => {
    const parser = new EslFrameParser({ maxHeaderBytes: 100 });
    expect(() => parser.push(Buffer.from('X: '.padEnd(200, 'a')))).toThrow(EslProtocolError);
  });

  it('parseEvent refuses a frame that is not an event', () => {
    const reply = framesOf('inbound-bgapi-plain')[1] as EslFrame;
    expect(() => parseEvent(reply)).toThrow(EslProtocolError);
  });
});
