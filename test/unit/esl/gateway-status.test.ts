// Replies as mod_sofia prints them (cmd_status / xml_gateway_status in mod_sofia.c): tab-separated labels,
// a 97-character '=' rule, one XML element per line, `Invalid Gateway!` for a name it does not know.
import { describe, expect, it } from 'vitest';
import { gatewayStatusCommand, parseGatewayStatus } from '../../../src/esl/index.ts';

const RULE = '='.repeat(97);

const PLAIN_UP_PINGING = [
  RULE,
  'Name    \tthreecx',
  'Profile \tthreecx',
  'Scheme  \tDigest',
  'Realm   \t192.0.2.10',
  'Username\tcallbridge',
  'Password\tno',
  'From    \t<sip:callbridge@192.0.2.10>',
  'Contact \t<sip:gw+threecx@10.0.0.5:5080;transport=udp;gw=threecx>',
  'Exten   \tcallbridge',
  'To      \tsip:callbridge@192.0.2.10',
  'Proxy   \tsip:192.0.2.10:5060',
  'Context \tpublic',
  'Expires \t3600',
  'Freq    \t3600',
  'Ping    \t1764108330',
  'PingFreq\t30',
  'PingTime\t12.48',
  'PingState\t1/1/1',
  'State   \tNOREG',
  'Status  \tUP (ping)',
  'Uptime  \t5412s',
  'CallsIN \t0',
  'CallsOUT\t37',
  'FailedCallsIN\t0',
  'FailedCallsOUT\t2',
  RULE,
  '',
].join('\n');

const XML_DOWN = `<?xml version="1.0" encoding="ISO-8859-1"?>
  <gateway>
    <name>threecx</name>
    <profile>threecx</profile>
    <scheme>Digest</scheme>
    <realm>192.0.2.10</realm>
    <username>callbridge</username>
    <password>no</password>
    <from>&lt;sip:callbridge@192.0.2.10&gt;</from>
    <contact>&lt;sip:gw+threecx@10.0.0.5:5080;transport=udp;gw=threecx&gt;</contact>
    <exten>callbridge</exten>
    <to>sip:callbridge@192.0.2.10</to>
    <proxy>sip:192.0.2.10:5060</proxy>
    <context>public</context>
    <expires>3600</expires>
    <freq>3600</freq>
    <ping>1764108360</ping>
    <pingfreq>30</pingfreq>
    <pingmin>1</pingmin>
    <pingcount>0</pingcount>
    <pingmax>1</pingmax>
    <pingtime>0.00</pingtime>
    <pinging>0</pinging>
    <state>NOREG</state>
    <status>DOWN</status>
    <uptime-usec>0</uptime-usec>
    <calls-in>0</calls-in>
    <calls-out>41</calls-out>
    <failed-calls-in>0</failed-calls-in>
    <failed-calls-out>6</failed-calls-out>
  </gateway>
`;

describe('sofia gateway status', () => {
  it('parses the plain reply; "(ping)" after the status is the ping in flight', () => {
    const reply = parseGatewayStatus(PLAIN_UP_PINGING);
    expect(reply).toEqual({
      kind: 'gateway',
      gateway: {
        name: 'threecx',
        profile: 'threecx',
        state: 'NOREG',
        status: 'UP',
        pinging: true,
        pingFreqSec: 30,
        pingTimeMs: 12.48,
        pingMin: 1,
        pingCount: 1,
        pingMax: 1,
        uptimeMs: 5_412_000,
        callsIn: 0,
        callsOut: 37,
        failedCallsIn: 0,
        failedCallsOut: 2,
      },
    });
  });

  it('parses the XML reply of a gateway whose OPTIONS pings fail', () => {
    const reply = parseGatewayStatus(XML_DOWN);
    expect(reply.kind).toBe('gateway');
    if (reply.kind !== 'gateway') return;
    expect(reply.gateway).toMatchObject({ name: 'threecx', state: 'NOREG', status: 'DOWN', pinging: false, pingCount: 0, uptimeMs: 0, failedCallsOut: 6 });
  });

  it('a registering gateway that failed: FAIL_WAIT and DOWN, with the retry element ignored', () => {
    const text = XML_DOWN.replace('<state>NOREG</state>', '<state>FAIL_WAIT</state>').replace('  </gateway>', '    <retry>27s</retry>\n  </gateway>');
    expect(parseGatewayStatus(text)).toMatchObject({ kind: 'gateway', gateway: { state: 'FAIL_WAIT', status: 'DOWN' } });
  });

  it('the same gateway gives the same status in both formats', () => {
    const plain = parseGatewayStatus(PLAIN_UP_PINGING);
    const xml = parseGatewayStatus(
      XML_DOWN.replace('<status>DOWN</status>', '<status>UP</status>')
        .replace('<pinging>0</pinging>', '<pinging>1</pinging>')
        .replace('<pingcount>0</pingcount>', '<pingcount>1</pingcount>')
        .replace('<pingtime>0.00</pingtime>', '<pingtime>12.48</pingtime>')
        .replace('<uptime-usec>0</uptime-usec>', '<uptime-usec>5412000000</uptime-usec>')
        .replace('<calls-out>41</calls-out>', '<calls-out>37</calls-out>')
        .replace('<failed-calls-out>6</failed-calls-out>', '<failed-calls-out>2</failed-calls-out>'),
    );
    expect(xml).toEqual(plain);
  });

  it('"Invalid Gateway!" is an unknown gateway, in either format', () => {
    expect(parseGatewayStatus('Invalid Gateway!\n')).toEqual({ kind: 'invalid_gateway' });
  });

  it('anything else is unrecognised, never a guessed status', () => {
    for (const text of ['-ERR sofia Command not found!\n', 'Invalid Syntax!\n', '', XML_DOWN.replace('<status>DOWN</status>', '<status>MAYBE</status>')]) {
      expect(parseGatewayStatus(text)).toEqual({ kind: 'unrecognised', text });
    }
  });

  it('builds the command and refuses names that would change it', () => {
    expect(gatewayStatusCommand('threecx')).toBe('sofia xmlstatus gateway threecx');
    expect(gatewayStatusCommand('twilio', 'plain')).toBe('sofia status gateway twilio');
    expect(() => gatewayStatusCommand('threecx\n\nexit')).toThrow(RangeError);
    expect(() => gatewayStatusCommand('a b')).toThrow(RangeError);
  });
});
