// The contract of a collector receiver: something that takes logs in over a protocol of its own
// (syslog today) and stores them through app.storage. buildApp registers each receiver's plugin;
// receivers open their sockets only in start(), which collector/server.ts calls after the HTTP
// listener is up, so inject() tests never open ports they did not ask for.
export interface ReceiverAddress {
  transport: string;
  host: string;
  port: number;
}

export interface Receiver {
  readonly name: string;
  /** Opens the sockets (idempotent); rejects when a port cannot be bound. */
  start(): Promise<ReceiverAddress[]>;
  /** Closes the sockets and stores what is still queued. */
  stop(): Promise<void>;
  /** where it listens, empty before start() */
  addresses(): ReceiverAddress[];
}
