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

/** A job to publish, and the jobs it was packed from when it is a batch (their positions in the input). */
export interface PackedJob extends OutboxJob {
  readonly members?: readonly number[];
}

/**
 * The jobs one relay round publishes, with the batchable ones (audit events, order updates) packed into
 * batch jobs of at most MAX_JOB_BATCH (docs/adr/0024): one job, one consumer round trip, for what would have
 * been many. A lone job of its kind goes as it is. A batch's id is derived from its members' ids, so a round
 * published again after a crash adds the same batch once; regrouped differently, its members are consumed
 * again and change nothing (every consumer is idempotent per member).
 */
export function packBatches(jobs: readonly OutboxJob[]): PackedJob[] {
  const groups = new Map<BatchableJob, number[]>();
  const out: PackedJob[] = [];
  for (const [index, job] of jobs.entries()) {
    if (!(job.name in BATCHED_AS)) {
      out.push(job);
      continue;
    }
    const name = job.name as BatchableJob;
    const group = groups.get(name) ?? [];
    group.push(index);
    groups.set(name, group);
  }
  for (const [name, indexes] of groups) {
    if (indexes.length === 1) {
      out.push(jobs[indexes[0]!]!);
      continue;
    }
    for (let i = 0; i < indexes.length; i += MAX_JOB_BATCH) {
      const members = indexes.slice(i, i + MAX_JOB_BATCH);
      const chunk = members.map((m) => jobs[m]!.payload as JobData<BatchableJob>);
      const batchId = uuidFromHash(`${name}:${chunk.map((m) => jobIdOf(name, m)).join(',')}`);
      out.push({
        name: BATCHED_AS[name],
        payload: {
          schemaVersion: SCHEMA_VERSION,
          correlationId: `batch-${batchId}`,
          batchId,
          jobs: chunk,
        } as JobData<JobName>,
        members,
      });
    }
  }
  return out;
}

/**
 * The member job name and payloads of a batch job, read back from its name and data (undefined for any other
 * job): what the worker logs per member, and what tests look into.
 */
export function batchMembersOf(
  name: string,
  data: unknown,
): { name: BatchableJob; jobs: unknown[] } | undefined {
  const member = (Object.keys(BATCHED_AS) as BatchableJob[]).find((m) => String(BATCHED_AS[m]) === name);
  const jobs = (data as { jobs?: unknown } | null)?.jobs;
  if (!member || !Array.isArray(jobs)) return undefined;
  return { name: member, jobs };
}
