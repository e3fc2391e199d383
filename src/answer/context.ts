// The typed query context every pipeline unit reads and writes.
import { QueryParser, type QueryView } from '../wire/fastpath.js';
import type { EdnsOption, ResourceRecord } from '../wire/types.js';
import { derivedAuthorities, type Authority } from './authority.js';
import type { ContextField, StateKey } from './state-key.js';
import type { Config } from '../config/schema.js';
import { labelCount } from '../wire/name.js';
import type { ZoneSet } from '../zone/tree.js';
import type { AuthorityTable } from './authority.js';
import type { TransportInfo } from '../transport/info.js';
import type { LookupResult } from '../zone/lookup.js';
import { turnNow } from './clock.js';
import { questionWireCount, questionWireName, type WireName } from '../zone/compiled.js';
import type { TsigStatus } from '../tsig/status.js';
import type { SignPlan } from '../tsig/sign.js';
import type { TtlJitterConfig } from '../modules/ttl-jitter/schema.js';
import type { CookieFacts, CookieStatus } from '../modules/cookies/facts.js';

/** QueryContext.encloserGate: whether no name strictly below `result`'s closest encloser, asked with `qtype`, would be acted on. */
export interface EncloserGate {
  passesBelow(result: LookupResult, qtype: number): boolean;
}

export type { TransportInfo, TransportProto } from '../transport/info.js';

/** What the chain decided: send the response draft, or nothing. */
export type Verdict = { kind: 'send' } | { kind: 'drop'; reason: string };

/** A chain of hooks (answer/pipeline.ts implements it); declared here so the runtime can carry one. */
export interface Chain {
  readonly units: readonly { readonly name: string }[];
  run(ctx: QueryContext): Verdict | Promise<Verdict>;
}

/**
 * What one query is answered from: a configuration, the data loaded for it, the authorities it
 * answers for and the chain of the modules it configures — swapped whole on reload (answer/runtime.ts).
 */
export interface Runtime {
  readonly config: Config;
  readonly zones: ZoneSet;
  /** Increases with every successful reload, so caches can tell stale entries. */
  readonly generation: number;
  /**
   * Every zone and service name answered (answer/authority.ts), built at load. A runtime made without
   * it (tests, `fluxdns explain`) gets one derived from its configuration and zones.
   */
  readonly authorities?: AuthorityTable;
  /** The hooks of the configured modules in chain order (answer/units.ts), built at load. */
  readonly chain?: Chain;
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
   * and complete (signed), each already in stream framing (its 2-byte length first, RFC 1035 §4.2.2) so
   * the socket takes it without a copy; given the first message as sent. Only stream transports send them.
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

export { StateKey, type StateReader } from './state-key.js';

/** A fresh draft: every field present from the start, so all drafts share one hidden class. */
function newDraft(): ResponseDraft {
  return {
    rcode: 0, aa: false, tc: false, answer: [], authority: [], additional: [], ednsOptions: [],
    failed: undefined, requiredAdditional: undefined, prebuilt: undefined, cacheable: false, seal: undefined, signed: undefined, following: undefined,
  };
}

const NO_BYTES = new Uint8Array(0);

export class QueryContext {
  readonly response: ResponseDraft = newDraft();
  /** Made on the first set: most queries never store per-unit state outside the typed fields. */
  private slots: Map<StateKey<unknown>, unknown> | undefined = undefined;
  /** ms since the epoch; -1 until first read (see receivedAt). */
  private at: number;
  /** The engine's contexts parse into their own reused view (QueryContext.reusable). */
  private parser: QueryParser | undefined = undefined;

  constructor(
    public raw: Uint8Array,
    public query: QueryView,
    public transport: TransportInfo,
    public runtime: Runtime,
    /** Milliseconds since the epoch; -1 (the engine): read from the turn clock on first use. */
    receivedAt = -1,
  ) {
    this.at = receivedAt;
  }

  /**
   * A context the engine reuses from query to query (renew): it owns its parsed view and draft, so a
   * query answered synchronously — every answer-cache hit — allocates nothing for them.
   */
  static reusable(transport: TransportInfo, runtime: Runtime): QueryContext {
    const parser = new QueryParser();
    const ctx = new QueryContext(NO_BYTES, parser.view, transport, runtime);
    ctx.parser = parser;
    return ctx;
  }

  /** Makes a reusable context this query's: parses `raw` and clears every trace of the last query. */
  renew(raw: Uint8Array, transport: TransportInfo, runtime: Runtime): this {
    this.raw = raw;
    this.query = this.parser!.parse(raw);
    this.transport = transport;
    this.runtime = runtime;
    this.at = -1;
    this.slots = undefined;
    this.resolved = undefined;
    this.qwire = undefined;
    this.settled = false;
    this.zoneResult = undefined;
    this.encloserShape = 0;
    this.encloserGate = undefined;
    this.cacheMissHash = -1;
    this.cacheStore = false;
    this.zoneSlot = -1;
    this.cacheReply = undefined;
    this.cacheCell = -1;
    this.tsigStatus = undefined;
    this.tsigPlan = undefined;
    this.ttlJitter = undefined;
    this.cookieFacts = undefined;
    this.cookieStatus = undefined;
    this.rrlRate = 0;
    this.wildcardLabels = 0;
    this.perClient = false;
    const r = this.response;
    r.rcode = 0;
    r.aa = false;
    r.tc = false;
    // The draft's arrays are kept when nothing was put in them (a hit, most answers replace them whole).
    if (r.answer.length > 0) r.answer = [];
    if (r.authority.length > 0) r.authority = [];
    if (r.additional.length > 0) r.additional = [];
    if (r.ednsOptions.length > 0) r.ednsOptions = [];
    r.failed = undefined;
    r.requiredAdditional = undefined;
    r.prebuilt = undefined;
    r.cacheable = false;
    r.seal = undefined;
    r.signed = undefined;
    r.following = undefined;
    return this;
  }

  /**
   * Called when the context outlives its query's synchronous part (a unit awaited, or a multi-message
   * response): its question's text is made while the query's bytes are still the transport's.
   */
  settle(): void {
    // The authority is resolved from the query's bytes (questionWire): now, while they are the query's.
    void this.authority;
    this.qwire = undefined;
    this.settled = true;
    this.parser?.settle();
  }

  /**
   * The question's name in lower-cased wire form with its suffix hashes (compiled.ts questionWireName),
   * made once per query from its bytes — undefined without a question, for a compressed name, or for a
   * context that does not own its parsed view (its `raw` may not be what `query` was parsed from).
   * Valid during the query's synchronous part: a later call scans again if another query's scan came between.
   */
  questionWire(): WireName | undefined {
    if (this.parser === undefined || this.query.question === undefined || this.settled) return undefined;
    if (this.qwire !== undefined && this.qwireCount === questionWireCount()) return this.qwire;
    this.qwire = questionWireName(this.raw, 12);
    this.qwireCount = questionWireCount();
    return this.qwire;
  }

  /** The question name's label count (the root not counted): from its bytes when scanned, else its text. */
  questionLabels(): number {
    return this.questionWire()?.offs.length ?? labelCount(this.query.question?.name ?? '.');
  }

  private qwire: WireName | undefined = undefined;
  private qwireCount = -1;
  /** Set by settle(): the query's bytes may since have been reused by the transport. */
  private settled = false;

  /**
   * When the query arrived (ms since the epoch): given (tests, `fluxdns explain`) or read on first use
   * from answer/clock.ts, once per event-loop turn — most queries (a cache hit with RRL off) never ask.
   */
  get receivedAt(): number {
    return this.at >= 0 ? this.at : (this.at = turnNow());
  }

  /** undefined: not resolved yet; null: no authority holds the name. */
  private resolved: Authority | null | undefined = undefined;

  // Typed fields for the state the hot path keeps (a Map of StateKeys costs an allocation per query).
  /** The zone responder's lookup (answer/lookup.ts), for later hooks: logs, policies that act on a miss. */
  zoneResult: LookupResult | undefined = undefined;
  /**
   * Set by the zone responder: 0, or how its answer depends on the query name when it depends on it only
   * through the closest encloser (answer/replay.ts SHAPE_*): the UDP addon may then answer other names
   * below that encloser from the reply (Engine.lastShape).
   */
  encloserShape = 0;
  /** Set by the answer cache on a miss: the hash of the query's cache key (-1: not a cacheable miss). */
  cacheMissHash = -1;
  /** Set by the answer cache on a miss asked before (its "seen once" filter): the answer is to be stored. */
  cacheStore = false;
  /**
   * The zone that answered, as its index in `runtime.zones.zones` (ZoneSet.slotOf): set by the zone
   * responder and carried in answer-cache entries, so the per-zone query counter needs no name match.
   * -1: no file zone answered, or not known (the counter then finds the zone from the name).
   */
  zoneSlot = -1;
  /**
   * Set by the answer cache on a hit: the reply it made (a finisher that changes it makes another array)
   * and the stored answer's cell (observe/metrics/cells.ts, -1: none), so the query metrics count a reply
   * still equal to it with one increment.
   */
  cacheReply: Uint8Array | undefined = undefined;
  cacheCell = -1;
  /** The tsig guard's verdict (TSIG_STATUS), set on every query it sees. */
  tsigStatus: TsigStatus | undefined = undefined;
  /** How the tsig finisher signs the response (TSIG_PLAN). */
  tsigPlan: SignPlan | undefined = undefined;
  /** The TTL jitter this answer gets (TTL_JITTER): set by a policy or the zone responder. */
  ttlJitter: TtlJitterConfig | undefined = undefined;
  /** The query's cookie verdict (cookies/state.ts), computed once. */
  cookieFacts: CookieFacts | undefined = undefined;
  /** cookieFacts.status (COOKIE_STATUS). */
  cookieStatus: CookieStatus | undefined = undefined;
  /**
   * The rrl bucket this response was let through on — its kind-and-name hash (without the client's
   * prefix) and rate — so a transport replaying the answer checks the same bucket (answer/replay.ts);
   * rate 0: none (rrl did not count this response).
   */
  rrlA = 0;
  rrlB = 0;
  rrlRate = 0;
  /**
   * How many leading labels of the question name a wildcard stood for in this answer (LookupResult.
   * wildcardLabels): set by the zone responder, kept with a cached answer and set again on its hit, so
   * rrl counts a wildcard answer by its closest encloser on a hit as on the miss (rrl/classify.ts). 0:
   * the question name was not synthesized. On a positive answer, > 0 means rrl's bucket is the same for
   * every name below that encloser.
   */
  wildcardLabels = 0;
  /**
   * Set by a unit replay-safe only for some queries (answer/replay.ts REPLAY_IF_QUESTION: policies) when
   * what it did for this query may differ for another client, time or connection with the same bytes:
   * the reply is then not replayed.
   */
  perClient = false;
  /**
   * Set with perClient false by such a unit (policies) whose verdict read the question alone: whether it
   * would also let every other name below the answer's closest encloser through, asked with this type,
   * so the answer may stand for them as an encloser template (Engine.lastShape, answer/replay.ts).
   */
  encloserGate: EncloserGate | undefined = undefined;

  /**
   * The authority that answers this query's name (answer/authority.ts), resolved once, on first use
   * (an answer-cache hit never needs it). Undefined without a question or when nothing here holds the name.
   */
  get authority(): Authority | undefined {
    if (this.resolved === undefined) {
      const q = this.query.question;
      if (q === undefined) this.resolved = null;
      else {
        const table = this.runtime.authorities ?? derivedAuthorities(this.runtime);
        // From the query's bytes when this context owns them (the engine's): no text of the name is made.
        const w = this.questionWire();
        this.resolved = (w !== undefined ? table.resolveWire(w, q.type) : table.resolve(q.name, q.type)) ?? null;
      }
    }
    return this.resolved ?? undefined;
  }

  get<T>(key: StateKey<T>): T | undefined {
    if (key.field !== undefined) return this[key.field] as T | undefined;
    return this.slots?.get(key) as T | undefined;
  }

  set<T>(key: StateKey<T>, value: T): void {
    if (key.field !== undefined) (this as Record<ContextField, unknown>)[key.field] = value;
    else (this.slots ??= new Map()).set(key, value);
  }
}
