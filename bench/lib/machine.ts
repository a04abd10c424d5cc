/** What the machine is: recorded with every result file so numbers can be compared honestly. */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';

export interface MachineInfo {
  hostname: string;
  nproc: number;
  cpuModel: string;
  memTotalMiB: number;
  memAvailableMiB: number;
  node: string;
  v8: string;
  platform: string;
  kernel: string;
  /** `df -T` line of the benchmark directory and whether its block device is rotational. */
  disk?: string | undefined;
  /** 1, 5, 15 minute load averages when the info was taken. */
  loadavg: number[];
}

function sh(cmd: string, args: string[]): string | undefined {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

function memAvailableMiB(): number {
  try {
    const m = /MemAvailable:\s+(\d+) kB/.exec(readFileSync('/proc/meminfo', 'utf8'));
    if (m) return Math.round(Number(m[1]) / 1024);
  } catch {
    /* not Linux */
  }
  return Math.round(os.freemem() / 2 ** 20);
}

/** The benchmark directory's filesystem, as "ext4 on vda (252G, 25% used), rotational": no mount points or paths. */
export function diskInfo(dir: string): string | undefined {
  const df = sh('df', ['-hT', dir])?.split('\n')[1]?.trim().split(/\s+/);
  if (!df || df.length < 6) return undefined;
  const [dev, fsType, size, , , usePct] = df;
  const base = /^\/dev\/([a-z]+)/.exec(dev)?.[1];
  let rotational = '';
  if (base && existsSync(`/sys/block/${base}/queue/rotational`)) {
    rotational = readFileSync(`/sys/block/${base}/queue/rotational`, 'utf8').trim() === '1' ? ', rotational' : ', non-rotational';
  }
  return `${fsType} on ${base ?? 'a non-block device'} (${size}, ${usePct} used)${rotational}`;
}

export function machineInfo(dir?: string): MachineInfo {
  const cpus = os.cpus();
  return {
    hostname: os.hostname(),
    nproc: os.availableParallelism ? os.availableParallelism() : cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    memTotalMiB: Math.round(os.totalmem() / 2 ** 20),
    memAvailableMiB: memAvailableMiB(),
    node: process.version,
    v8: process.versions.v8,
    platform: `${process.platform} ${process.arch}`,
    kernel: os.release(),
    disk: dir ? diskInfo(dir) : undefined,
    loadavg: os.loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

export function loadavg(): number[] {
  return os.loadavg().map((x) => Math.round(x * 100) / 100);
}
