// The packed form in which batches cross to the writer thread is the SQLite store's own
// (storage/sqlite/packed.ts: the store inserts rows from it directly); re-exported for the
// ingest path through the storage factory, the one place that names a backend.
export { packBatch, packItems, packSegment, restreamPacked, unpackItems, unpackSegment, type PackedBatch, type PackedItem, type PackedSegment } from '../storage/factory.js';
