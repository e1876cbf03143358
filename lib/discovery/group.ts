import type { Balancer } from '../balancer/balancer.js';
import type { Worker } from '../core/worker.js';
import type { DiscoverySpec, MemberSpec } from '../config/spec.js';
import type { Notices } from '../logger.js';
import { DRAIN } from '../model/status.js';
import { keepAdminState, restoreAdminState } from '../balancer/admin.js';
import { log } from '../debug.js';
import { GroupResolver, type Endpoint } from './resolver.js';
import { membersFor } from './members.js';

/** pending: not answered yet; ok: addresses; failing: DNS could not answer; empty: it answered none. */
export type GroupState = 'pending' | 'ok' | 'failing' | 'empty';

/** One query's deadline: well inside the refresh period, never long enough to pile lookups up. */
function queryTimeoutMs(refreshMs: number): number {
  return Math.min(2000, Math.max(50, Math.floor(refreshMs / 2)));
}

/**
 * One discovered member group: resolves its name on a timer (the answer's TTL, at most `refresh`),
 * adds a worker for each new address, drains and then removes the workers whose address is gone,
 * and keeps the last good set while DNS fails or, for `grace`, while it answers nothing.
 */
export class DiscoveryGroup {
  readonly spec: DiscoverySpec;
  readonly balancer: Balancer;
  state: GroupState = 'pending';
  /** Clock time of the last answer (addresses or none). */
  lastResolution: number | undefined;
  /** Clock time of the next lookup. */
  nextRefresh: number | undefined;
  /** Why the last lookup failed (a DNS error code), while failing. */
  lastError: string | undefined;
  readonly #resolver: GroupResolver;
  readonly #notices: Notices;
  /** This group's workers, draining ones included, by name. */
  readonly #workers = new Map<string, Worker>();
  readonly #retiring = new Set<Worker>();
  /** lbset and lbfactor as DNS last gave them: applied again only when DNS changes them (admin edits stay). */
  readonly #fromDns = new Map<string, { lbset: number; lbfactor: number }>();
  #emptySince: number | undefined;
  #timer: unknown;
  #running: Promise<void> | undefined;
  #stopped = false;

  constructor(balancer: Balancer, spec: DiscoverySpec, notices: Notices) {
    this.balancer = balancer;
    this.spec = spec;
    this.#notices = notices;
    this.#resolver = new GroupResolver(spec.servers, queryTimeoutMs(spec.refreshMs));
  }

  /** The group's workers (those being drained included), in the order they were found. */
  get workers(): Worker[] {
    return [...this.#workers.values()];
  }

  /** True while `w` is drained before its removal (its address is gone). */
  isRetiring(w: Worker): boolean {
    return this.#retiring.has(w);
  }

  /** Resolves now unless a lookup is in flight (then that one); the timer restarts after it. */
  refresh(): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    this.#running ??= this.#run().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  /** Stops the timer and the lookups in flight; the workers stay as they are. */
  stop(): void {
    this.#stopped = true;
    this.balancer.clock.clearTimeout(this.#timer);
    this.#resolver.cancel();
  }

  async #run(): Promise<void> {
    this.balancer.clock.clearTimeout(this.#timer);
    let delay = this.spec.refreshMs;
    let endpoints: Endpoint[] | undefined;
    try {
      const answer = await this.#resolver.resolve(this.spec);
      endpoints = answer.endpoints;
      if (answer.ttlMs !== undefined) delay = Math.min(delay, answer.ttlMs);
    } catch (err) {
      if (!this.#stopped) this.#failed(err);
    }
    if (this.#stopped) return;
    if (endpoints) this.#answered(endpoints);
    this.nextRefresh = this.balancer.clock.now() + delay;
    this.#timer = this.balancer.clock.setTimeout(() => void this.refresh(), delay);
  }

  #failed(err: unknown): void {
    const code = (err as { code?: unknown }).code;
    this.lastError = typeof code === 'string' ? code : err instanceof Error ? err.message : String(err);
    const kept = this.#active().length;
    this.#enter(
      'failing',
      'warn',
      `DNS lookup of ${this.#label()} failed (${this.lastError}): keeping its last ${kept} worker(s)`,
    );
  }

  #answered(endpoints: Endpoint[]): void {
    const now = this.balancer.clock.now();
    this.lastResolution = now;
    this.lastError = undefined;
    const active = this.#active().length;
    if (endpoints.length === 0 && active > 0) {
      this.#emptySince ??= now;
      const grace = this.spec.graceMs;
      if (now - this.#emptySince < grace) {
        this.#enter(
          'empty',
          'warn',
          `${this.#label()} answered no address: keeping its ${active} worker(s) for up to ${grace} ms`,
        );
        return;
      }
      this.#notices.say(
        'warn',
        `${this.#label()} has answered no address for ${grace} ms: draining and removing its workers`,
      );
    }
    if (endpoints.length > 0) this.#emptySince = undefined;
    const n = endpoints.length;
    this.#enter(n === 0 ? 'empty' : 'ok', 'info', `${this.#label()} resolves to ${n} address(es)`);
    this.#apply(membersFor(this.spec, endpoints));
  }

  /** Says a transition once (not on every lookup that stays in the same state). */
  #enter(state: GroupState, level: 'warn' | 'info', message: string): void {
    if (state === this.state) return;
    const quiet = state === 'ok' && this.state === 'pending';
    this.state = state;
    log.discovery('%s %s', this.balancer.id, message);
    if (!quiet) this.#notices.say(level, message);
  }

  #label(): string {
    return `${this.balancer.id} ${this.spec.kind === 'srv' ? 'SRV ' : ''}${this.spec.name}`;
  }

  #active(): Worker[] {
    return this.workers.filter((w) => !this.#retiring.has(w));
  }

  #apply(members: MemberSpec[]): void {
    const wanted = new Set(members.map((m) => m.name));
    for (const [name, w] of this.#workers) if (!wanted.has(name)) this.#retire(w);
    for (const m of members) {
      const w = this.#workers.get(m.name);
      if (!w) this.#add(m);
      else {
        if (this.#retiring.delete(w)) restoreAdminState(this.balancer, w);
        this.#update(w, m);
      }
    }
  }

  #add(m: MemberSpec): void {
    const b = this.balancer;
    if (b.worker(m.name)) {
      log.discovery('%s %s: %s is already a member; not added again', b.id, this.spec.name, m.name);
      return;
    }
    const w = b.addWorker(m);
    this.#workers.set(w.name, w);
    this.#fromDns.set(w.name, { lbset: m.lbset, lbfactor: m.lbfactor });
    // An administrator's edits to this address before it went away (or from the store) come back with it.
    if (restoreAdminState(b, w)) log.discovery('%s %s: admin state restored', b.id, w.name);
  }

  #update(w: Worker, m: MemberSpec): void {
    const was = this.#fromDns.get(w.name);
    if (was?.lbset !== m.lbset) this.balancer.setLbset(w, m.lbset);
    if (was?.lbfactor !== m.lbfactor) {
      w.lbfactor = m.lbfactor;
      this.balancer.recalcFactors();
    }
    this.#fromDns.set(w.name, { lbset: m.lbset, lbfactor: m.lbfactor });
  }

  /** Drains a worker whose address is gone (no new requests; those in flight finish), then removes it. */
  #retire(w: Worker): void {
    if (this.#retiring.has(w)) return;
    const b = this.balancer;
    keepAdminState(b, w);
    this.#retiring.add(w);
    b.setFlag(w, DRAIN, true, `its address is no longer in ${this.spec.name}`);
    void this.#removeWhenIdle(w);
  }

  async #removeWhenIdle(w: Worker): Promise<void> {
    const b = this.balancer;
    while (this.#retiring.has(w) && !this.#stopped) {
      if (w.busy === 0) {
        if (b.removeWorker(w, `its address is no longer in ${this.spec.name}; drained`)) {
          this.#retiring.delete(w);
          this.#workers.delete(w.name);
          this.#fromDns.delete(w.name);
        }
        return;
      }
      await b.waitForChange(b.clock.now() + this.spec.refreshMs).done;
    }
  }
}
