import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { QUEUE_TOPOLOGY, QueueName } from '@desk/contracts';

const ROOT = join(__dirname, '..');

function docTable(): string[][] {
  const doc = readFileSync(join(ROOT, 'docs', 'architecture.md'), 'utf8');
  const block = /<!-- topology:start -->([\s\S]*?)<!-- topology:end -->/.exec(doc)?.[1] ?? '';
  return block
    .trim()
    .split('\n')
    .slice(2)
    .map((line) =>
      line
        .split('|')
        .slice(1, -1)
        .map((c) => c.trim()),
    );
}

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return path.endsWith('.ts') && !path.endsWith('.spec.ts') ? [path] : [];
  });
}

/** Queues each app consumes, read from its `@Processor(QueueName.X` decorators. */
function consumedQueues(app: string): string[] {
  const enumKeyToValue = new Map<string, string>(Object.entries(QueueName));
  return sources(join(ROOT, 'apps', app, 'src')).flatMap((file) =>
    [...readFileSync(file, 'utf8').matchAll(/@Processor\(\s*QueueName\.(\w+)/g)].map(
      (m) => enumKeyToValue.get(m[1] ?? '') ?? `unknown ${m[1]}`,
    ),
  );
}

describe('queue topology', () => {
  it('docs/architecture.md shows exactly the topology declared in the contracts', () => {
    const expected = QUEUE_TOPOLOGY.map((r) => [
      r.queue,
      r.jobs.join(', '),
      r.producers.join(', '),
      r.consumers.join(', '),
      r.planned ? `planned: ${r.planned}` : r.retired ? `retired: ${r.retired}` : 'live',
    ]);
    expect(docTable()).toEqual(expected);
  });

  it('every queue in QueueName has a route', () => {
    expect(QUEUE_TOPOLOGY.map((r) => r.queue).sort()).toEqual(Object.values(QueueName).sort());
  });

  it('each live queue is consumed by exactly the services named, and planned queues by none yet', () => {
    const apps = readdirSync(join(ROOT, 'apps'));
    for (const route of QUEUE_TOPOLOGY) {
      const consumers = apps.filter((app) => consumedQueues(app).includes(route.queue)).sort();
      expect({ queue: route.queue, consumers }).toEqual({
        queue: route.queue,
        consumers: route.planned ? [] : [...route.consumers].sort(),
      });
    }
  });

  it('no service has two processors for one queue', () => {
    for (const app of readdirSync(join(ROOT, 'apps'))) {
      const queues = consumedQueues(app);
      expect({ app, queues }).toEqual({ app, queues: [...new Set(queues)] });
    }
  });
});
