// A worker process for tests: the real `callbridge worker` code path (configuration from the environment,
// runWorker with its signal handling), with test tuning (BullMQ prefix, a short lock) from argv[2] as JSON.
import { loadConfig } from '../../src/app/config.ts';
import { runWorker, type WorkerTuning } from '../../src/app/worker.ts';

const tuning = JSON.parse(process.argv[2] ?? '{}') as WorkerTuning;
await runWorker(loadConfig(process.env, { mode: 'worker' }), { tuning });
