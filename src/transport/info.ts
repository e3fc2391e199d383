// What a transport tells the engine about the connection a query came over.

export type TransportProto = 'udp' | 'tcp' | 'tls' | 'https';

export interface TransportInfo {
  readonly proto: TransportProto;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
}
