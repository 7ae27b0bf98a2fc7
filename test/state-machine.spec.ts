import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { ORDER_STATE_MACHINE, OrderStatus } from '@desk/contracts';

/** The edges of the order state machine as docs/architecture.md draws it ("A --> B" in its mermaid block). */
function documented(): { edges: string[]; owners: Record<string, string> } {
  const doc = readFileSync(join(__dirname, '..', 'docs', 'architecture.md'), 'utf8');
  const section = /## Order state machine([\s\S]*?)\n## /.exec(doc)?.[1] ?? '';
  const diagram = /```mermaid([\s\S]*?)```/.exec(section)?.[1] ?? '';
  const edges = [...diagram.matchAll(/^\s*([A-Z_]+) --> ([A-Z_]+)/gm)].map(([, a, b]) => `${a} -> ${b}`);
  const owners = Object.fromEntries(
    [...section.matchAll(/^\| `([A-Z_]+)` +\| ([a-z-]+) +\|/gm)].map(([, status, owner]) => [status, owner]),
  );
  return { edges, owners };
}

describe('the order state machine in docs/architecture.md', () => {
  it('draws exactly the transitions the code allows', () => {
    const code = Object.entries(ORDER_STATE_MACHINE).flatMap(([from, s]) =>
      s.next.map((to) => `${from} -> ${to}`),
    );
    expect([...new Set(documented().edges)].sort()).toEqual(code.sort());
  });

  it('names the owner of every status as the code does', () => {
    const code = Object.fromEntries(
      Object.entries(ORDER_STATE_MACHINE).map(([status, s]) => [status, s.owner]),
    );
    expect(documented().owners).toEqual(code);
    expect(Object.keys(code).sort()).toEqual(Object.values(OrderStatus).sort());
  });
});
