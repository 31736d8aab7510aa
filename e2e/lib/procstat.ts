// CPU time and resident memory of a process tree, from /proc (Linux).
import fs from 'node:fs';

const CLK_TCK = 100; // sysconf(_SC_CLK_TCK) on Linux x86_64

function children(pid: number): number[] {
  try {
    return fs.readdirSync(`/proc/${pid}/task`).flatMap((tid) =>
      fs.readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number));
  } catch { return []; }
}

/** The process and all its descendants (the server spawns its mediasoup workers). */
export function processTree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) out.push(...children(out[i]!));
  return out;
}

/** The mediasoup worker processes under a server process. */
export function mediasoupWorkers(serverPid: number): number[] {
  return processTree(serverPid).filter((p) => {
    try { return fs.readFileSync(`/proc/${p}/comm`, 'utf8').trim().startsWith('mediasoup-work'); } catch { return false; }
  });
}

export interface Sample { cpuSeconds: number; rssBytes: number }

export function sampleTree(pid: number): Sample {
  let ticks = 0, rssPages = 0;
  for (const p of processTree(pid)) {
    try {
      // Fields after the ")" of the command name: utime is 14th, stime 15th overall.
      const stat = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]);
      rssPages += Number(fs.readFileSync(`/proc/${p}/statm`, 'utf8').split(' ')[1]);
    } catch { /* exited between listing and reading */ }
  }
  return { cpuSeconds: ticks / CLK_TCK, rssBytes: rssPages * 4096 };
}
