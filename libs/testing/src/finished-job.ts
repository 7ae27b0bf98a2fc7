import type { Job, Queue } from 'bullmq';
import { waitFor } from './wait-for';

/**
 * Waits until a job has finished in `state`, then reads it again: a job read before it finished keeps the
 * fields of that moment (attemptsMade 0, no return value) even once `isCompleted()` says true.
 */
export async function finishedJob(queue: Queue, jobId: string, state: 'completed' | 'failed'): Promise<Job> {
  return waitFor(
    async () => {
      if ((await queue.getJobState(jobId)) !== state) return undefined;
      return queue.getJob(jobId);
    },
    { what: `job ${jobId} ${state}` },
  );
}
