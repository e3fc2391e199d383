// The contract between the stub resolver and its transports: a server address and one exchange.

export interface ServerAddress {
  host: string;
  port: number;
}

/** Sends `packet` and resolves with the first reply `accept` takes, or null when `timeoutMs` passed. */
export type Exchange = (server: ServerAddress, packet: Uint8Array, timeoutMs: number, accept: (reply: Uint8Array) => boolean) => Promise<Uint8Array | null>;
