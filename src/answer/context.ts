// The typed query context every pipeline unit reads and writes.
import type { QueryView } from '../wire/fastpath.js';
import type { EdnsOption, ResourceRecord } from '../wire/types.js';
import type { Runtime } from './runtime.js';

export type TransportProto = 'udp' | 'tcp' | 'tls' | 'https';

export interface TransportInfo {
  readonly proto: TransportProto;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
}

/** What the responder and finishers build; the pipeline encodes it. */
export interface ResponseDraft {
  rcode: number;
  aa: boolean;
  tc: boolean;
  answer: ResourceRecord[];
  authority: ResourceRecord[];
  additional: ResourceRecord[];
  /** EDNS options to send back (only when the query had EDNS). */
  ednsOptions: EdnsOption[];
  /**
   * Set on an error answer (a unit's `fail`): it copies RD and no other query flag, as Knot does and
   * RFC 8906 §8.1.4 expects of NOTIMP; CD is copied only into answers from data (RFC 4035 §3.1.6).
   */
  failed?: boolean;
  /** Leading additional records that must fit, or TC is set (a referral's in-domain glue, RFC 9471). */
  requiredAdditional?: number;
  /**
   * Wire bytes already made for this query (a cached answer); when set, the pipeline sends them as
   * they are. A finisher that changes records must leave prebuilt responses alone or clear it.
   */
  prebuilt?: Uint8Array;
  /**
   * Set by a responder whose answer depends only on (name, type, transport, EDNS size, DO) and the
   * loaded data, so the encoded bytes may be reused for the next such query. Any unit that makes
   * the answer depend on anything else (the client, time, randomness) must set it back to false.
   */
  cacheable: boolean;
  /**
   * Set by a finisher that must append to the encoded message (tsig: RFC 8945 §5.3 signs the bytes as
   * sent). The encoder keeps `reserve` bytes free under the size limit, then passes the bytes through `apply`.
   */
  seal?: { readonly reserve: number; apply(wire: Uint8Array): Uint8Array };
  /** `prebuilt` already carries its TSIG (a zone transfer signs its chain of messages itself, RFC 8945 §5.3.1). */
  signed?: boolean;
  /**
   * The messages after the first of a multi-message response (AXFR/IXFR, RFC 5936 §2.2), made lazily
   * and complete (signed); given the first message as sent. Only stream transports send them.
   */
  following?: (first: Uint8Array) => Iterable<Uint8Array>;
}

/** What a lookup-style responder produces: the rcode, AA and the three sections. */
export interface Sections {
  rcode: number;
  aa: boolean;
  answer: ResourceRecord[];
  authority: ResourceRecord[];
  additional: ResourceRecord[];
}

/** Puts a whole answer into the draft (EDNS options and flags set by other units are kept). */
export function setSections(r: ResponseDraft, s: Sections): void {
  r.rcode = s.rcode;
  r.aa = s.aa;
  r.answer = s.answer;
  r.authority = s.authority;
  r.additional = s.additional;
}

/** A typed slot for per-query state owned by one unit. */
export class StateKey<T> {
  declare readonly _type: T;
  constructor(readonly name: string) {}
}

export class QueryContext {
  readonly response: ResponseDraft = { rcode: 0, aa: false, tc: false, answer: [], authority: [], additional: [], ednsOptions: [], cacheable: false };
  /** Made on the first set: most queries (an answer-cache hit) never store per-unit state. */
  private slots: Map<StateKey<unknown>, unknown> | undefined;

  constructor(
    readonly raw: Uint8Array,
    readonly query: QueryView,
    readonly transport: TransportInfo,
    readonly runtime: Runtime,
    readonly receivedAt: number,
  ) {}

  get<T>(key: StateKey<T>): T | undefined {
    return this.slots?.get(key) as T | undefined;
  }

  set<T>(key: StateKey<T>, value: T): void {
    (this.slots ??= new Map()).set(key, value);
  }
}
