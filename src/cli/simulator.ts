// `callbridge simulator`: the FreeSWITCH simulator on its own, for trying a controller (ours or any ESL
// client) without FreeSWITCH. It prints its ports, places the calls of an optional scenario file, and takes
// commands on standard input:
//   call <from> <to> [hangup-after-ms]   place a call that runs the dialplan (socket to the controller)
//   hangup <uuid> [cause]                the caller hangs up
//   dtmf <uuid> <digits>                 the caller presses digits
//   calls                                list the channels still up
//   quit                                 stop
// Scenario file (JSON, validated):
//   { "timeScale": 1,
//     "calls": [ { "from": "+15551230001", "to": "+15559870100", "atMs": 0, "callerHangsUpAfterMs": 5000,
//                  "dtmf": [ { "atMs": 1500, "digits": "1#" } ] } ],
//     "endpoints": { "gateway/threecx/101": { "kind": "busy" } } }
// `endpoints` are the simulated far ends of bridges and originates (answer, busy, no_answer, unreachable,
// reject), keyed by `user@host`, `user` or `gateway/<gateway>[/<number>]`.
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import { FreeSwitchSimulator, type PlaceCallOptions, type SimulatedCall } from '../simulator/simulator.ts';
import { maskPhoneNumber } from '../app/logger.ts';

const phone = z.string().regex(/^\+?[0-9*#]{1,20}$/, 'expected a dialable number');
const endpoint = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('answer'),
    answerAfterMs: z.number().int().min(0).optional(),
    hangupAfterMs: z.number().int().positive().optional(),
  }),
  z.strictObject({ kind: z.literal('busy') }),
  z.strictObject({ kind: z.literal('no_answer') }),
  z.strictObject({ kind: z.literal('unreachable') }),
  z.strictObject({ kind: z.literal('reject'), cause: z.string().regex(/^[A-Z_]+$/, 'expected a hangup cause') }),
]);
const scenarioSchema = z.strictObject({
  timeScale: z.number().positive().max(100).optional(),
  endpoints: z.record(z.string().min(1), endpoint).optional(),
  calls: z
    .array(
      z.strictObject({
        from: phone,
        to: phone,
        atMs: z.number().int().min(0).default(0),
        callerHangsUpAfterMs: z.number().int().positive().optional(),
        dtmf: z.array(z.strictObject({ atMs: z.number().int().min(0), digits: z.string().regex(/^[0-9*#A-D]+$/) })).optional(),
      }),
    )
    .default([]),
});
export type Scenario = z.infer<typeof scenarioSchema>;

export interface SimulatorCommandOptions {
  eslHost: string;
  eslPort: number;
  password: string;
  socketTarget?: { host: string; port: number };
  scenario?: string;
}

export async function loadScenario(file: string): Promise<Scenario> {
  const text = await readFile(file, 'utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`${file}: not valid JSON (${(error as Error).message})`);
  }
  const parsed = scenarioSchema.safeParse(json);
  if (!parsed.success) {
    throw new Error(`${file}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  }
  return parsed.data;
}

export interface StartedSimulator {
  simulator: FreeSwitchSimulator;
  eslPort: number;
  calls: Map<string, SimulatedCall>;
  place(call: PlaceCallOptions): SimulatedCall;
  /** Cancels the scenario's pending calls and stops the simulator. */
  stop(): Promise<void>;
}

/** Starts the simulator and schedules the scenario's calls; prints what happens to each call. */
export async function startSimulatorCommand(options: SimulatorCommandOptions): Promise<StartedSimulator> {
  const scenario = options.scenario === undefined ? undefined : await loadScenario(options.scenario);
  const simulator = new FreeSwitchSimulator({
    eslHost: options.eslHost,
    eslPort: options.eslPort,
    password: options.password,
    ...(options.socketTarget ? { socketTarget: options.socketTarget } : {}),
    ...(scenario?.timeScale === undefined ? {} : { timeScale: scenario.timeScale }),
    ...(scenario?.endpoints === undefined ? {} : { endpoints: scenario.endpoints }),
  });
  const { eslPort } = await simulator.start();
  const target = options.socketTarget ? `${options.socketTarget.host}:${options.socketTarget.port}` : 'none';
  say(`FreeSWITCH simulator: ESL on ${options.eslHost}:${eslPort}, calls go to socket ${target}`);

  const calls = new Map<string, SimulatedCall>();
  const place = (call: PlaceCallOptions): SimulatedCall => {
    const placed = simulator.placeCall(call);
    calls.set(placed.uuid, placed);
    say(`call ${placed.uuid} from ${maskPhoneNumber(call.from)} to ${maskPhoneNumber(call.to)}`);
    void placed.ended.then((cause) => {
      calls.delete(placed.uuid);
      say(`call ${placed.uuid} ended: ${cause}`);
    });
    return placed;
  };
  const timers = (scenario?.calls ?? []).map(({ atMs, ...call }) => setTimeout(() => place(call), atMs));
  return {
    simulator,
    eslPort,
    calls,
    place,
    stop: async () => {
      for (const timer of timers) clearTimeout(timer);
      await simulator.stop();
    },
  };
}

export async function runSimulatorCommand(options: SimulatorCommandOptions): Promise<void> {
  const { calls, place, stop: stopSimulator } = await startSimulatorCommand(options);
  await new Promise<void>((resolve) => {
    const input = createInterface({ input: process.stdin });
    const stop = () => {
      input.close();
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    input.on('close', resolve);
    input.on('line', (line) => {
      const [verb, ...args] = line.trim().split(/\s+/);
      try {
        switch (verb) {
          case 'call': {
            const from = phone.parse(args[0]);
            const to = phone.parse(args[1]);
            const after = args[2] === undefined ? undefined : z.coerce.number().int().positive().parse(args[2]);
            place({ from, to, ...(after === undefined ? {} : { callerHangsUpAfterMs: after }) });
            break;
          }
          case 'hangup':
          case 'dtmf': {
            const call = calls.get(args[0] ?? '');
            if (call === undefined) say('no such call');
            else if (verb === 'hangup') call.hangup(args[1]);
            else call.sendDtmf(args[1] ?? '');
            break;
          }
          case 'calls':
            say(calls.size === 0 ? 'no calls' : [...calls.keys()].join('\n'));
            break;
          case 'quit':
            stop();
            break;
          case '':
          case undefined:
            break;
          default:
            say(`unknown command "${verb}" (call, hangup, dtmf, calls, quit)`);
        }
      } catch (error) {
        say(`bad command: ${error instanceof z.ZodError ? error.issues.map((i) => i.message).join('; ') : (error as Error).message}`);
      }
    });
  });
  // readline leaves a piped stdin open, which would keep the process alive after `quit`.
  process.stdin.destroy();
  await stopSimulator();
}

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}
