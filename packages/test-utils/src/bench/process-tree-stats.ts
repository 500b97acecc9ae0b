import { readFile, readdir } from 'node:fs/promises';

/** What one process contributes to a sample of the process tree. */
interface ProcessSample {
  pid: number;
  ppid: number;
  /** Command line, to tell the control plane, PostgreSQL and tenant hosts apart. */
  command: string;
  /** Proportional set size: shared pages split among the processes sharing them. */
  pssBytes: number;
  /** User + system CPU seconds, including reaped children. */
  cpuSeconds: number;
}

export type ProcessGroup = 'control plane' | 'postgres' | 'tenant hosts' | 'other';

export interface ProcessTreeSample {
  processes: number;
  /** Sum of PSS over the tree: the memory the platform really occupies. */
  pssBytes: number;
  cpuSecondsByGroup: Record<ProcessGroup, number>;
}

const CLOCK_TICKS_PER_SECOND = 100;

async function sampleProcess(pid: number): Promise<ProcessSample | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name: state ppid … utime(14) stime cutime cstime.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = [11, 12, 13, 14].reduce((sum, index) => sum + Number(fields[index] ?? 0), 0);
    const command = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).replaceAll('\0', ' ');
    const rollup = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8').catch(() => '');
    const pssKiB = Number(/^Pss:\s+(\d+) kB/m.exec(rollup)?.[1] ?? 0);
    return {
      pid,
      ppid: Number(fields[1]),
      command,
      pssBytes: pssKiB * 1024,
      cpuSeconds: ticks / CLOCK_TICKS_PER_SECOND,
    };
  } catch {
    return undefined; // the process ended while we looked
  }
}

function groupOf(sample: ProcessSample, rootPid: number): ProcessGroup {
  if (sample.pid === rootPid) return 'control plane';
  if (sample.command.includes('host-main')) return 'tenant hosts';
  if (sample.command.startsWith('postgres') || sample.command.includes('/bin/postgres'))
    return 'postgres';
  return 'other';
}

/** Memory and CPU of `rootPid` and all its descendants, from /proc (Linux). */
export async function sampleProcessTree(rootPid: number): Promise<ProcessTreeSample> {
  const entries = (await readdir('/proc')).map(Number).filter(Number.isInteger);
  const samples = (await Promise.all(entries.map(sampleProcess))).filter(
    (sample): sample is ProcessSample => sample !== undefined,
  );
  const parents = new Map(samples.map((sample) => [sample.pid, sample.ppid]));
  const inTree = (pid: number): boolean => {
    for (
      let current: number | undefined = pid;
      current !== undefined && current > 1;
      current = parents.get(current)
    ) {
      if (current === rootPid) return true;
    }
    return false;
  };
  const result: ProcessTreeSample = {
    processes: 0,
    pssBytes: 0,
    cpuSecondsByGroup: { 'control plane': 0, postgres: 0, 'tenant hosts': 0, other: 0 },
  };
  for (const sample of samples.filter((candidate) => inTree(candidate.pid))) {
    result.processes += 1;
    result.pssBytes += sample.pssBytes;
    result.cpuSecondsByGroup[groupOf(sample, rootPid)] += sample.cpuSeconds;
  }
  return result;
}

/** Peak resident memory (VmHWM) of one process, in bytes. */
export async function processPeakRss(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) * 1024;
}
