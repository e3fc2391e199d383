// The modules and the chain order, declared once. Order matters: begin hooks run before anything reads
// data (so a refused query costs nothing), answer hooks run in priority order (the first to answer
// wins; each answers only names of its kind of authority), and end hooks see every response sent.
import type { Config } from '../config/schema.js';
import { ConfigError, type LoadedConfig } from '../config/load.js';
import type { ZoneSet } from '../zone/tree.js';
import { AuthorityTable, setAuthorityDeriver, type Authority } from './authority.js';
import { ModuleLoadError, type HookStage, type Hooks, type LoadContext, type Module, type ModuleEnv, type ModuleInstance } from './module.js';
import { Pipeline } from './pipeline.js';
import type { Unit } from './unit.js';
import type { Runtime } from './runtime.js';
import { AnswerCache } from '../modules/cache/index.js';
import { cacheModule } from '../modules/cache/module.js';
import { capabilityModule } from '../modules/capability/module.js';
import { cookiesModule } from '../modules/cookies/module.js';
import { echoModule } from '../modules/echo/module.js';
import { ednsModule } from '../modules/edns/module.js';
import { headerModule } from '../modules/header/module.js';
import { policiesModule } from '../modules/policies/module.js';
import { policyZoneModule } from '../modules/policy-zone/module.js';
import { rrlModule } from '../modules/rrl/module.js';
import { tsigModule } from '../modules/tsig/module.js';
import { ttlJitterModule } from '../modules/ttl-jitter/module.js';
import { zoneModule } from '../modules/zone/module.js';
import { exceptionsTxtResponder } from '../modules/dnssec-online/index.js';
import { dnssecOnlineModule as dnssecModule } from '../modules/dnssec-online/module.js';
import { xfrUnit } from '../transfer/unit.js';
import { notifyGuard, secondaryServfail } from '../secondary/unit.js';

/**
 * A module around units that test their own configuration on every query. For units written before
 * the module API; their owners may replace it with a module.ts whose load builds the derived state.
 * In the chain when `configured` says so (default: always) — a hook that only finds out per query
 * that it has nothing to do costs every query the answer cache does not serve (issue 11).
 */
function unitsModule(name: string, keys: readonly string[], hooks: (env: ModuleEnv) => Hooks, configured: (config: Config) => boolean = () => true): Module {
  return { name, keys, setup: (env) => ({ hooks: hooks(env), load: (ctx) => configured(ctx.config) }) };
}

/** NOTIFY in for secondary zones (RFC 1996; src/secondary). */
const notifyModule = unitsModule('notify', ['zones'], () => ({ begin: notifyGuard() }));
/** AXFR/IXFR out, UPDATE in, NOTIFY handed over (src/transfer): not queries, so before policies and caches. */
const xfrModule = unitsModule('xfr', ['zones'], (env) => ({ begin: xfrUnit(env.xfr) }));
/** A secondary zone never transferred or expired: SERVFAIL, not REFUSED (src/secondary). */
const secondaryModule = unitsModule('secondary-servfail', ['zones'], () => ({ answer: secondaryServfail() }), (config) => config.zones.some((z) => z.primaries !== undefined));
/** _exceptions.<service> TXT: a capability's exceptions in a form DNSSEC signs. */
const exceptionsTxtModule = unitsModule('exceptions-txt', ['services'], () => ({ answer: exceptionsTxtResponder() }), (config) => config.services.length > 0);

/** Every module, once. A new module is added here and in CHAIN. */
export const MODULES: readonly Module[] = [
  tsigModule,
  cookiesModule,
  notifyModule,
  headerModule,
  xfrModule,
  policiesModule,
  capabilityModule,
  dnssecModule,
  exceptionsTxtModule,
  cacheModule,
  echoModule,
  secondaryModule,
  zoneModule,
  policyZoneModule,
  ttlJitterModule,
  ednsModule,
  rrlModule,
];

/** The order of each stage's hooks, by module name. */
export const CHAIN: { readonly [S in HookStage]: readonly string[] } = {
  begin: [
    'tsig', // first: every response to a signed query is signed (RFC 8945 §5.3), even a cookie or header error
    'cookies', // before header: it answers cookie-only queries (RFC 7873 §5.4), which header calls malformed
    'notify', // before header (which refuses opcodes other than QUERY): NOTIFY for a secondary zone (RFC 1996)
    'header',
    'xfr', // last guard: AXFR/IXFR, UPDATE and NOTIFY are not queries; policies, caches and zones never see them
    'policies', // first matching policy decides; before the cache, so its answers are never reused
  ],
  answer: [
    'capability', // before the cache: a service's answer is a fresh lease (and a service name is its own authority)
    'dnssec-online', // DNSKEY/CDS/CDNSKEY at an online-signed apex: from the keys, not from a zone file
    'exceptions-txt', // _exceptions.<service> TXT
    'answer-cache', // a pre-encoded answer before any responder does work
    'echo', // then one responder per kind of authority: only the kind ctx.authority names answers
    'secondary-servfail', // a secondary zone not transferred yet or expired: SERVFAIL, not REFUSED
    'zone',
    'policy-zone',
  ],
  end: [
    'ttl-jitter',
    'dnssec-online', // after ttl-jitter: each RRSIG covers the TTL actually sent (RFC 4034 §3.1.4)
    'edns',
    'cookies',
    'tsig', // signs at encode time; last before the store: a signed response is never cached
    'answer-cache', // stores after every end hook that changes the answer has had its say
    'rrl', // after the store: it judges the response as sent and may drop or truncate it
  ],
};

const UNIT_STAGE: { readonly [S in HookStage]: Unit['stage'] } = { begin: 'guard', answer: 'responder', end: 'finish' };

/** Old options of createUnits, kept for tests and `fluxdns explain`. */
export type UnitOptions = ModuleEnv;

/** The table of authorities for a configuration and its zones (answer/authority.ts). */
export function authoritiesFor(config: Config, zones: ZoneSet, modules: readonly Module[] = MODULES): AuthorityTable {
  const entries: Authority[] = [];
  for (const m of modules) if (m.authorities) entries.push(...m.authorities(config, zones));
  return new AuthorityTable(entries, { config, zones });
}

setAuthorityDeriver((rt) => authoritiesFor((rt as Runtime).config, (rt as Runtime).zones));

/**
 * Fills in what a runtime lacks: its table of authorities when it has none or one built for other
 * zones (a hand-made runtime, a zone reload, a transfer swapping one zone in), and — when the
 * configuration is the same as `prev`'s — `prev`'s chain.
 */
export function completeRuntime(runtime: Runtime, prev?: Runtime): Runtime {
  const fresh = runtime.authorities?.builtFrom(runtime.config, runtime.zones) === true;
  const chain = runtime.chain ?? (prev !== undefined && prev.config === runtime.config ? prev.chain : undefined);
  if (fresh && chain === runtime.chain) return runtime;
  return { ...runtime, authorities: fresh ? runtime.authorities : authoritiesFor(runtime.config, runtime.zones), chain };
}

/** The modules of one process: their instances (state that outlives reloads) and the load phase. */
export class ModuleSet {
  private readonly instances: ReadonlyMap<string, ModuleInstance>;

  constructor(
    env: ModuleEnv = {},
    private readonly modules: readonly Module[] = MODULES,
  ) {
    const map = new Map<string, ModuleInstance>();
    for (const m of modules) {
      if (map.has(m.name)) throw new Error(`module "${m.name}" is registered twice`);
      map.set(m.name, m.setup(env));
    }
    this.instances = map;
  }

  /** The hooks of the stage in chain order; `only` keeps the configured modules'. */
  private stage(s: HookStage, only?: ReadonlySet<string>): Unit[] {
    const out: Unit[] = [];
    for (const name of CHAIN[s]) {
      if (only && !only.has(name)) continue;
      const hook = this.instances.get(name)?.hooks[s];
      if (hook) out.push(hook.stage === UNIT_STAGE[s] ? hook : { ...hook, stage: UNIT_STAGE[s] });
    }
    return out;
  }

  /** Every module's hooks in chain order, configured or not (each hook tests its configuration itself). */
  units(): Unit[] {
    return [...this.stage('begin'), ...this.stage('answer'), ...this.stage('end')];
  }

  /**
   * The load phase: the table of authorities, then each module's load (derived state built now), then
   * the chain of the configured modules' hooks. Any error refuses the configuration as a ConfigError
   * naming the file, the line and the key; nothing is swapped in.
   */
  load(loaded: Pick<LoadedConfig, 'config' | 'file' | 'lineOf'>, zones: ZoneSet, onError?: (unit: Unit, err: unknown) => void): { authorities: AuthorityTable; chain: Pipeline } {
    const { config, file } = loaded;
    const authorities = authoritiesFor(config, zones, this.modules);
    const configured = new Set<string>();
    const fail = (module: string) => (path: readonly (string | number)[], message: string): never => {
      throw new ModuleLoadError(module, path, message);
    };
    for (const m of this.modules) {
      const ctx: LoadContext = { config, zones, authorities, fail: fail(m.name) };
      try {
        if (this.instances.get(m.name)!.load(ctx)) configured.add(m.name);
      } catch (e) {
        const path = e instanceof ModuleLoadError ? e.path : m.keys.length > 0 ? [m.keys[0]!] : [];
        const message = e instanceof ModuleLoadError ? e.message : `module ${m.name} cannot load: ${(e as Error).message}`;
        throw new ConfigError([{ file, line: loaded.lineOf?.([...path]), path: pathText(path), message }]);
      }
    }
    const chain = new Pipeline([...this.stage('begin', configured), ...this.stage('answer', configured), ...this.stage('end', configured)], onError);
    return { authorities, chain };
  }
}

function pathText(path: readonly (string | number)[]): string {
  return path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('').replace(/^\./, '');
}

/** Every hook of every module in chain order, for tests and `fluxdns explain` (which load no configuration). */
export function createUnits(cache = new AnswerCache(), opts: UnitOptions = {}): Unit[] {
  return new ModuleSet({ ...opts, answerCache: cache }).units();
}
