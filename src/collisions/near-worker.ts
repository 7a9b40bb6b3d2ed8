/** Worker-thread entry of the near engine (near-thread.ts): runs each batch it is sent, in order. */
import { parentPort, workerData } from 'node:worker_threads';
import { NearEngine, type NearEngineOptions } from './near-engine';
import { runNearBatch, type NearBatch } from './near-batch';

const engine = new NearEngine(workerData as NearEngineOptions);
parentPort!.on('message', (b: NearBatch) => parentPort!.postMessage(runNearBatch(engine, b)));
