// What a process and its descendants use, read from /proc (Linux only).
import fs from 'node:fs';

const ticksPerSecond = 100;

function children(pid) {
  const found = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === pid) found.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return found;
}

/** The process and every descendant. */
export function processTree(pid) {
  const all = [pid];
  for (let i = 0; i < all.length; i += 1) all.push(...children(all[i]));
  return all;
}

/** User + system CPU seconds of these processes. */
export function cpuSeconds(pids) {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // ended
    }
  }
  return ticks / ticksPerSecond;
}

function statusField(pid, field) {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(
      fs.readFileSync(`/proc/${pid}/status`, 'utf8'),
    );
    return match ? Number(match[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** Resident memory now, in MB, of each process. */
export const rssMb = (pids) => pids.map((pid) => statusField(pid, 'VmRSS'));
/** Peak resident memory since start (VmHWM), in MB, of each process. */
export const peakRssMb = (pids) => pids.map((pid) => statusField(pid, 'VmHWM'));
