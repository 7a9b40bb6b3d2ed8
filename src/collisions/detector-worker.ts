/** Worker-thread entry of the collision detector (detector-thread.ts): runs each batch it is sent, in order. */
import { parentPort, workerData } from 'node:worker_threads';
import type { CollisionsConfig } from '../config/schema';
import { CollisionDetector } from './detector';
import { runObservationBatch } from './observation-batch';
import type { FromWorker, ToWorker } from './detector-thread';

const detector = new CollisionDetector(workerData as CollisionsConfig);
parentPort!.on('message', (m: ToWorker) => {
  const answer: FromWorker =
    'batch' in m ? { results: runObservationBatch(detector, m.batch) } : { top: detector.clusters(m.top), health: detector.health() };
  parentPort!.postMessage(answer);
});
