// Where the collector keeps its round-robin store: metrics.db in its data directory. A module of
// its own so that what only needs the name (the writer thread's upgrade check, `ringtail hosts`)
// does not load the metrics plugin's graph (its routes, TypeBox's compiler, the store thread):
// the writer thread's heap held ~90 modules' code for one string.
export const METRICS_DB = 'metrics.db';
