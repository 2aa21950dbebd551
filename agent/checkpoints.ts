// The in-memory view of the state file shared by the agent and its sources. Sources register a
// stream before any of its lines can reach the spool (`dirty` forces a save before the next
// spool append), so a restarted agent always presents the same stream identities.
import { saveState, type AgentState, type FileCheckpoint } from './state.js';

export class Checkpoints {
  private dirty = false;

  constructor(
    private readonly dir: string,
    readonly state: AgentState,
  ) {
    this.previousSaveAt = state.saved_at;
  }

  /** When the previous run last saved its state (read before this run saves). */
  readonly previousSaveAt: number | undefined;

  get agentId(): string {
    return this.state.agent_id;
  }

  get(stream: string): FileCheckpoint | undefined {
    return this.state.streams[stream];
  }

  entries(): Array<[string, FileCheckpoint]> {
    return Object.entries(this.state.streams);
  }

  put(stream: string, cp: FileCheckpoint): void {
    this.state.streams[stream] = cp;
    this.dirty = true;
  }

  update(stream: string, patch: Partial<FileCheckpoint>): void {
    const cp = this.state.streams[stream];
    if (!cp) return;
    Object.assign(cp, patch);
    this.dirty = true;
  }

  /** A stream let go at `end`: forgotten as soon as everything up to `end` is acknowledged. */
  release(stream: string, end: number): void {
    const cp = this.state.streams[stream];
    if (!cp) return;
    if (cp.offset >= end) delete this.state.streams[stream];
    else cp.released_end = end;
    this.dirty = true;
  }

  /** The collector acknowledged [.., end) of a stream. */
  acked(stream: string, end: number): void {
    const cp = this.state.streams[stream];
    if (!cp) return;
    if (end > cp.offset) cp.offset = end;
    if (cp.released_end !== undefined && cp.offset >= cp.released_end) delete this.state.streams[stream];
    this.dirty = true;
  }

  ackedSeq(seq: number): void {
    if (seq > this.state.spool_acked_seq) this.state.spool_acked_seq = seq;
    this.dirty = true;
  }

  get isDirty(): boolean {
    return this.dirty;
  }

  save(): void {
    this.state.saved_at = Date.now();
    saveState(this.dir, this.state);
    this.dirty = false;
  }

  saveIfDirty(): void {
    if (this.dirty) this.save();
  }
}
