import type { Job, Queue } from 'bullmq';
import { batchMembersOf } from '@desk/platform';
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

/**
 * The jobs as their consumer sees them: each member of a batch job (docs/adr/0024) as a job of its own (its
 * name, its payload; the id, state and result stay the batch's). Tests that look for one event in a queue
 * read it so.
 */
export function unbatched<J extends Pick<Job, 'name' | 'data'>>(jobs: readonly J[]): J[] {
  return jobs.flatMap((job) => {
    const members = batchMembersOf(job.name, job.data);
    if (!members) return [job];
    return members.jobs.map((data) => Object.assign(Object.create(job) as J, { name: members.name, data }));
  });
}
