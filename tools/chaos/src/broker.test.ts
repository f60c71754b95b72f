import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { brokerPidFile } from './broker.js';
import { busiestLeader } from './faults.js';

describe('brokerPidFile', () => {
  it("is the single node's pid file, else node 1's of a three-node stack, else none", () => {
    const none = mkdtempSync(join(tmpdir(), 'chaos-'));
    expect(brokerPidFile(none)).toBeUndefined();
    const three = mkdtempSync(join(tmpdir(), 'chaos-'));
    for (const i of [1, 2, 3]) writeFileSync(join(three, `kafka-${i}.pid`), String(i));
    expect(brokerPidFile(three)).toBe(join(three, 'kafka-1.pid'));
    const one = mkdtempSync(join(tmpdir(), 'chaos-'));
    writeFileSync(join(one, 'kafka.pid'), '1');
    expect(brokerPidFile(one)).toBe(join(one, 'kafka.pid'));
  });
});

describe('busiestLeader', () => {
  it('is the node leading most partitions, the lowest id on a tie, none without leaders', () => {
    const p = (leaders: number[]) => leaders.map((leader, partitionId) => ({ partitionId, leader }));
    expect(busiestLeader(p([1, 2, 2, 3, 2, 1]))).toBe(2);
    expect(busiestLeader(p([3, 1, 3, 1]))).toBe(1);
    expect(busiestLeader(p([-1, -1]))).toBeUndefined();
    expect(busiestLeader([])).toBeUndefined();
  });
});
