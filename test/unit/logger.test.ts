import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, maskDigitRuns, maskPhoneNumber } from '../../src/app/logger.ts';

function capture(format: 'json' | 'pretty' = 'json') {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString('utf8'));
      callback();
    },
  });
  const logger = createLogger({ level: 'debug', format, destination });
  return { logger, output: () => chunks.join('') };
}

// Numbers in the shapes they arrive in: E.164, national with punctuation, SIP users, event headers.
const NUMBERS = ['+15551234567', '5559876543', '+44 20 7946 0958', '(555) 222-3333', '15557778888'];
const DIGITS = NUMBERS.map((n) => n.replace(/\D/g, ''));

function expectNoNumberInClear(text: string): void {
  for (const n of NUMBERS) expect(text).not.toContain(n);
  const digitsOnly = text.replace(/[^\d]/g, ' ');
  for (const d of DIGITS) expect(digitsOnly).not.toContain(d);
}

describe('maskPhoneNumber', () => {
  it('keeps only the last four digits', () => {
    expect(maskPhoneNumber('+1 (555) 123-4567')).toBe('***4567');
    expect(maskPhoneNumber('sip:15551234567@pbx')).toBe('***4567');
    expect(maskPhoneNumber('anonymous')).toBe('***');
  });
});

describe('maskDigitRuns', () => {
  it('masks numbers inside text but keeps call ids and timestamps readable', () => {
    const id = '123e4567-e89b-12d3-a456-426614174000';
    const text = `call ${id} from +15551234567 to 555-222-3333 at 2026-11-25T19:35:04.123Z ext 1001`;
    expect(maskDigitRuns(text)).toBe(`call ${id} from ***4567 to ***3333 at 2026-11-25T19:35:04.123Z ext 1001`);
  });
});

describe('createLogger', () => {
  for (const format of ['json', 'pretty'] as const) {
    it(`never writes a phone number in clear (${format})`, () => {
      const { logger, output } = capture(format);
      const error = Object.assign(new Error(`originate to ${NUMBERS[0]} failed`), { to: NUMBERS[1] });
      logger.info(
        {
          call: { fromNumber: NUMBERS[0], toNumber: NUMBERS[1], state: 'ringing' },
          from: NUMBERS[2],
          to: NUMBERS[3],
          event: {
            'Caller-Caller-ID-Number': NUMBERS[4],
            'Caller-Destination-Number': NUMBERS[1],
            variable_sip_from_user: NUMBERS[0],
            variable_sip_to_user: NUMBERS[1],
            'Channel-Name': `sofia/gateway/3cx/${NUMBERS[4]}`,
          },
          headers: [{ caller: NUMBERS[2] }, { callee: NUMBERS[3] }],
          err: error,
        },
        'inbound call from %s to %s',
        NUMBERS[0],
        NUMBERS[3],
      );
      logger.child({ caller: NUMBERS[4], url: `/v1/calls?to=${DIGITS[0]}` }).warn(`dialing ${NUMBERS[2]}`);
      logger.child({ callId: 'abc' }).child({ callee: NUMBERS[1] }).error(error);
      const text = output();
      expectNoNumberInClear(text);
      expect(text).toContain('***4567');
      expect(text).toContain('***3333');
      expect(text).toContain('***8888');
      expect(text).toContain('ringing');
    });
  }

  it('keeps the logged object intact for the caller', () => {
    const { logger } = capture();
    const call = { fromNumber: NUMBERS[0] };
    logger.info({ call }, 'x');
    expect(call.fromNumber).toBe(NUMBERS[0]);
  });

  it('writes one JSON object per line with level, message and fields', () => {
    const { logger, output } = capture();
    logger.info({ callId: '123e4567-e89b-12d3-a456-426614174000', attempt: 3 }, 'answered');
    const line = JSON.parse(output().trim()) as Record<string, unknown>;
    expect(line).toMatchObject({ level: 30, msg: 'answered', callId: '123e4567-e89b-12d3-a456-426614174000', attempt: 3 });
  });

  it('redacts secrets outright', () => {
    const { logger, output } = capture();
    logger.info({ config: { eslPassword: 'ClueCon', apiToken: 'tok-123' }, req: { headers: { authorization: 'Bearer abc' } } });
    const text = output();
    expect(text).not.toContain('ClueCon');
    expect(text).not.toContain('tok-123');
    expect(text).not.toContain('Bearer abc');
    expect(text).toContain('[redacted]');
  });

  it('respects the level', () => {
    const chunks: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _e, cb) {
        chunks.push(chunk.toString());
        cb();
      },
    });
    const logger = createLogger({ level: 'warn', format: 'json', destination });
    logger.info('hidden');
    logger.warn('shown');
    expect(chunks.join('')).not.toContain('hidden');
    expect(chunks.join('')).toContain('shown');
  });

  it('survives circular objects', () => {
    const { logger, output } = capture();
    const a: Record<string, unknown> = { to: NUMBERS[0] };
    a.self = a;
    logger.info(a, 'loop');
    expect(output()).toContain('[Circular]');
    expectNoNumberInClear(output());
  });
});
