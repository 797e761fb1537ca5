/** Child-process entry: receives one member's job over IPC, trains it, sends the weights back. */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import type { MemberJob } from './members';
import { trainMember } from './train-member';

process.once('message', (job: MemberJob) => {
  void (async () => {
    try {
      await tf.setBackend('wasm');
      await tf.ready();
      const result = trainMember({ ...job, log: (line) => process.send!({ type: 'log', line }) });
      process.send!({ type: 'done', result }, () => process.exit(0));
    } catch (error) {
      process.send!({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) }, () =>
        process.exit(1),
      );
    }
  })();
});
