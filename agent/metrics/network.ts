// Per-interface traffic from /proc/net/dev (the agent's network namespace). Every column is a
// cumulative counter, so all travel raw as DERIVE and the store makes the per-second rates.
import { derive, labelValue, realProc, type MetricSource, type ProcFs, type Sample } from './types.js';

export interface NetDev {
  iface: string;
  rx_bytes: number;
  rx_packets: number;
  rx_errors: number;
  rx_drops: number;
  tx_bytes: number;
  tx_packets: number;
  tx_errors: number;
  tx_drops: number;
}

export function parseNetDev(text: string): NetDev[] {
  const out: NetDev[] = [];
  for (const line of text.split('\n')) {
    // "  eth0: 339239933 11867 0 0 …" — old kernels glue the first number to the colon.
    const m = /^\s*([^:\s]+):\s*(.*)$/.exec(line);
    if (!m) continue;
    const n = m[2]!.trim().split(/\s+/).map(Number);
    if (n.length < 16 || n.some((x) => !Number.isFinite(x))) continue;
    out.push({
      iface: m[1]!,
      rx_bytes: n[0]!, rx_packets: n[1]!, rx_errors: n[2]!, rx_drops: n[3]!,
      tx_bytes: n[8]!, tx_packets: n[9]!, tx_errors: n[10]!, tx_drops: n[11]!,
    });
  }
  return out;
}

const COLUMNS = ['rx_bytes', 'tx_bytes', 'rx_packets', 'tx_packets', 'rx_errors', 'tx_errors', 'rx_drops', 'tx_drops'] as const;

export function networkFamily(proc: ProcFs = realProc): MetricSource {
  return {
    name: 'network',
    collect(): Sample[] {
      const out: Sample[] = [];
      for (const d of parseNetDev(proc.read('/proc/net/dev'))) {
        const labels = { interface: labelValue(d.iface) };
        for (const c of COLUMNS) out.push(derive(`net.${c}`, d[c], labels));
      }
      return out;
    },
  };
}
