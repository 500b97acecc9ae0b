import { readFile, readdir } from 'node:fs/promises';

/** Resident memory (bytes) of `pid` and all its descendants, from /proc (Linux). */
export async function processTreeRss(
  rootPid: number,
): Promise<{ totalBytes: number; processes: number }> {
  const parents = new Map<number, number>();
  const rss = new Map<number, number>();
  for (const entry of await readdir('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    try {
      const status = await readFile(`/proc/${pid}/status`, 'utf8');
      const ppid = Number(/^PPid:\s+(\d+)/m.exec(status)?.[1]);
      const vmRss = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0);
      parents.set(pid, ppid);
      rss.set(pid, vmRss * 1024);
    } catch {
      // the process ended while we looked
    }
  }
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
  let totalBytes = 0;
  let processes = 0;
  for (const [pid, bytes] of rss) {
    if (inTree(pid)) {
      totalBytes += bytes;
      processes += 1;
    }
  }
  return { totalBytes, processes };
}

/** Peak resident memory (VmHWM) of one process, in bytes. */
export async function processPeakRss(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) * 1024;
}
