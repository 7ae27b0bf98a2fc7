import {
  BATCHED_AS,
  MAX_JOB_BATCH,
  SCHEMA_VERSION,
  jobIdOf,
  type BatchableJob,
  type JobData,
  type JobName,
} from '@desk/contracts';
import { uuidFromHash } from '../queue/job-validator';

export interface OutboxJob {
  readonly name: JobName;
  readonly payload: JobData<JobName>;
}

/**
 * The jobs one relay round publishes, with the batchable ones (audit events, order updates) packed into
 * batch jobs of at most MAX_JOB_BATCH (docs/adr/0024): one job, one consumer round trip, for what would have
 * been many. A lone job of its kind goes as it is. A batch's id is derived from its members' ids, so a round
 * published again after a crash adds the same batch once; regrouped differently, its members are consumed
 * again and change nothing (every consumer is idempotent per member).
 */
export function packBatches(jobs: readonly OutboxJob[]): OutboxJob[] {
  const groups = new Map<BatchableJob, JobData<BatchableJob>[]>();
  const out: OutboxJob[] = [];
  for (const job of jobs) {
    if (!(job.name in BATCHED_AS)) {
      out.push(job);
      continue;
    }
    const name = job.name as BatchableJob;
    const group = groups.get(name) ?? [];
    group.push(job.payload as JobData<BatchableJob>);
    groups.set(name, group);
  }
  for (const [name, members] of groups) {
    if (members.length === 1) {
      out.push({ name, payload: members[0] as JobData<JobName> });
      continue;
    }
    for (let i = 0; i < members.length; i += MAX_JOB_BATCH) {
      const chunk = members.slice(i, i + MAX_JOB_BATCH);
      const batchId = uuidFromHash(`${name}:${chunk.map((m) => jobIdOf(name, m)).join(',')}`);
      out.push({
        name: BATCHED_AS[name],
        payload: {
          schemaVersion: SCHEMA_VERSION,
          correlationId: `batch-${batchId}`,
          batchId,
          jobs: chunk,
        } as JobData<JobName>,
      });
    }
  }
  return out;
}
