// Consolidation of a window's samples, as rrdtool's consolidation functions.
import type { CF } from './sources.js';

export function consolidate(values: Array<number | null>, cf: CF): number | null {
  const known = values.filter((v): v is number => v !== null && !Number.isNaN(v));
  if (known.length === 0) return null;
  switch (cf) {
    case 'AVERAGE':
      return known.reduce((a, b) => a + b, 0) / known.length;
    case 'MIN':
      return Math.min(...known);
    case 'MAX':
      return Math.max(...known);
    case 'LAST':
      return known[known.length - 1]!;
  }
}
