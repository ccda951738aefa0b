// Commands must leave our process byte for byte as FreeSWITCH's captured clients sent them, and nothing a
// caller passes may split one command into two.
import { describe, expect, it } from 'vitest';
import {
  decodeValue,
  EslHeaders,
  parseJsonPairs,
  sendmsgExecute,
  sendmsgHangup,
  serializeCommand,
} from '../../../src/esl/protocol/index.ts';
import { EslInvalidCommandError, EslProtocolError } from '../../../src/core/errors.ts';
import { loadTrace } from './traces.ts';

describe('serializer', () => {
  const linger = loadTrace('outbound-socket-call2000-linger-plain').clientBytes.toString('latin1');
  const eventlock = loadTrace('outbound-socket-call2000-eventlock-bridge-plain').clientBytes.toString('latin1');

  it('sendmsg execute matches the captured bytes', () => {
    const answer = sendmsgExecute({ app: 'answer', eventUuid: 'fsref-answer-1' }).toString('latin1');
    const playback = sendmsgExecute({
      app: 'playback',
      arg: 'tone_stream://%(1000,0,440)',
      eventUuid: 'fsref-playback-1',
    }).toString('latin1');
    expect(linger).toContain(answer + playback);
    const locked = sendmsgExecute({ app: 'bridge', arg: 'loopback/7000', eventLock: true, eventUuid: 'fsref-bridge-1' });
    expect(eventlock).toContain(locked.toString('latin1'));
  });

  it('sendmsg hangup matches the captured bytes', () => {
    expect(linger).toContain(sendmsgHangup({ cause: 'NORMAL_CLEARING' }).toString('latin1') + 'exit\n\n');
    expect(sendmsgHangup({ uuid: 'abc', cause: 'USER_BUSY' }).toString()).toBe(
      'sendmsg abc\ncall-command: hangup\nhangup-cause: USER_BUSY\n\n',
    );
  });

  it('plain commands and bgapi with a Job-UUID header match the captured bytes', () => {
    const bgapi = loadTrace('inbound-bgapi-plain').clientBytes.toString('latin1');
    expect(bgapi).toContain(
      serializeCommand('bgapi status', { headers: { 'Job-UUID': 'd3a7b5c4-0000-4000-8000-00000000cafe' } }).toString(),
    );
    expect(bgapi.startsWith(serializeCommand('auth ClueCon').toString())).toBe(true);
  });

  it('a body goes after a Content-Length counted in bytes', () => {
    const out = serializeCommand('sendevent CUSTOM', { headers: [['Event-Subclass', 'x::y']], body: 'é!' });
    expect(out.toString()).toBe('sendevent CUSTOM\nEvent-Subclass: x::y\nContent-Length: 3\n\né!');
  });

  it('refuses line breaks anywhere (command injection)', () => {
    expect(() => serializeCommand('api status\n\napi hupall')).toThrow(EslInvalidCommandError);
    expect(() => serializeCommand('bgapi status', { headers: { 'Job-UUID': 'x\r\napi hupall' } })).toThrow(
      EslInvalidCommandError,
    );
    expect(() => sendmsgExecute({ app: 'playback', arg: 'a.wav\n\napi hupall', eventUuid: 'u' })).toThrow(
      EslInvalidCommandError,
    );
    expect(() => sendmsgHangup({ uuid: 'a b', cause: 'NORMAL_CLEARING' })).toThrow(EslInvalidCommandError);
    expect(() => serializeCommand('')).toThrow(EslInvalidCommandError);
  });
});

describe('value decoding', () => {
  it('decodes percent-encoding and survives malformed sequences', () => {
    expect(decodeValue('%2BOK%0A')).toBe('+OK\n');
    expect(decodeValue('100% sure %41')).toBe('100% sure A');
    expect(decodeValue('%E2%82')).toBe('%E2%82');
    expect(decodeValue('a+b')).toBe('a+b');
  });
});

describe('json pairs', () => {
  it('keeps duplicates and order, unescapes strings, keeps non-strings as text', () => {
    expect(parseJsonPairs('{"a":"1","b":"x\\"y\\\\z\\u00e9\\n","a":"2", "n": 5, "o": {"k": [1, "}"]}}')).toEqual([
      ['a', '1'],
      ['b', 'x"y\\zé\n'],
      ['a', '2'],
      ['n', '5'],
      ['o', '{"k": [1, "}"]}'],
    ]);
    expect(parseJsonPairs(' { } ')).toEqual([]);
  });

  it('malformed JSON is a protocol error, not a crash', () => {
    for (const bad of ['', '[]', '{"a":"1"', '{"a" "1"}', '{"a":"\\q"}', '{"a":"1",}']) {
      expect(() => parseJsonPairs(bad), bad).toThrow(EslProtocolError);
    }
  });
});

describe('EslHeaders', () => {
  it('last value wins for get, all values kept, case-insensitive lookup', () => {
    const h = new EslHeaders();
    h.add('Event-Name', 'COMMAND');
    h.add('content-length', '5');
    h.add('Event-Name', 'PRIVATE_COMMAND');
    expect(h.get('Event-Name')).toBe('PRIVATE_COMMAND');
    expect(h.getFirst('Event-Name')).toBe('COMMAND');
    expect(h.getAll('Event-Name')).toEqual(['COMMAND', 'PRIVATE_COMMAND']);
    expect(h.get('Content-Length')).toBeUndefined();
    expect(h.getIgnoreCase('Content-Length')).toBe('5');
    expect(h.has('Nope')).toBe(false);
    h.add('Event-Name', 'LAST');
    expect(h.get('Event-Name')).toBe('LAST');
    expect(h.toObject()).toEqual({ 'Event-Name': 'LAST', 'content-length': '5' });
    expect(h.entries()).toHaveLength(4);
  });
});
