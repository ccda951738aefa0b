// `callbridge simulator`: run the FreeSWITCH simulator standalone. Scenario file (JSON, optional):
//   { "calls": [ { "from": "+15550100", "to": "5000", "atMs": 0, "callerHangsUpAfterMs": 20000,
//                  "dtmf": [ { "atMs": 5000, "digits": "1#" } ] } ],
//     "endpoints": { "gateway/threecx/101": { "kind": "busy" } }, "timeScale": 1 }
// Each call is placed `atMs` after start; endpoints are the simulated far ends (see EndpointBehaviour).
import { readFile } from 'node:fs/promises';
import { FreeSwitchSimulator, type EndpointBehaviour, type PlaceCallOptions } from './simulator.ts';

export interface SimulatorScenario {
  calls?: Array<PlaceCallOptions & { atMs?: number }>;
  endpoints?: Record<string, EndpointBehaviour>;
  timeScale?: number;
}

export async function startSimulatorFromCli(opts: {
  eslPort: number;
  password: string;
  socketTarget?: { host: string; port: number };
  scenarioFile?: string;
}): Promise<{ simulator: FreeSwitchSimulator; eslPort: number }> {
  const scenario: SimulatorScenario =
    opts.scenarioFile === undefined ? {} : (JSON.parse(await readFile(opts.scenarioFile, 'utf8')) as SimulatorScenario);
  const simulator = new FreeSwitchSimulator({
    eslPort: opts.eslPort,
    password: opts.password,
    socketTarget: opts.socketTarget,
    endpoints: scenario.endpoints,
    timeScale: scenario.timeScale,
  });
  const { eslPort } = await simulator.start();
  for (const c of scenario.calls ?? []) {
    setTimeout(() => simulator.placeCall(c), c.atMs ?? 0).unref();
  }
  return { simulator, eslPort };
}
