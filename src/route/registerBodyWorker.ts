/** Worker thread entry: runs register jobs (registerJob.ts) for registerBodyPool.ts. */
import { setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import { runRegisterJob, type RegisterJob, type RegisterJobResult } from './registerJob.js';
import { errorMessage } from '../util/errorMessage.js';

interface JobMessage {
  id: number;
  job: RegisterJob;
}

// Decoding is background work: on Linux a nice value is per thread, so this
// lowers only this thread and the event loop serving reads wins the CPU when
// cores are scarce. Elsewhere (or if refused) it is simply not lowered.
try {
  setPriority(0, 10);
} catch {
  // keep the default priority
}

parentPort!.on('message', (message: JobMessage) => {
  let result: RegisterJobResult | { failed: string };
  try {
    result = runRegisterJob(message.job);
  } catch (err) {
    result = { failed: errorMessage(err) };
  }
  const transfer =
    'decoded' in result && result.decoded?.ok ? [result.decoded.value.topics.quads.buffer as ArrayBuffer] : [];
  parentPort!.postMessage({ id: message.id, result }, transfer);
});
