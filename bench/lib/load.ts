export async function loadBench(_o: { agents: number; seconds: number; dir: string }): Promise<void> {
  throw new Error('load benchmark: not yet written');
}
