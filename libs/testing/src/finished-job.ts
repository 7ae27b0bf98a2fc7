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

/** Job names whose payload carries a batch of jobs (`jobs`), packed by an outbox relay (docs/adr/0024). */
const BATCH_MEMBERS: Readonly<Record<string, string>> = {
  'audit.event_batch': 'audit.event',
  'order.update_batch': 'order.updated',
};

/**
 * The jobs as their consumer sees them: each member of a batch job as a job of its own (its name, its
 * payload; the id, state and result stay the batch's). Tests that look for one event in a queue read it so.
 */
export function unbatched<J extends Pick<Job, 'name' | 'data'>>(jobs: readonly J[]): J[] {
  return jobs.flatMap((job) => {
    const member = BATCH_MEMBERS[job.name];
    if (!member) return [job];
    const members = (job.data as { jobs?: unknown[] }).jobs ?? [];
    return members.map((data) => Object.assign(Object.create(job) as J, { name: member, data }));
  });
}
