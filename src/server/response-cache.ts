import type { FastifyReply, FastifyRequest } from 'fastify';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Answers of this GET route may be shared for the cache's time-to-live (list and count routes). */
    cache?: boolean;
  }
}

interface Entry {
  payload: string;
  contentType: string;
  expiresAt: number;
}

/** What a request being computed holds: its key and how to wake those waiting for it. */
interface Pending {
  done: Promise<void>;
  settle: () => void;
}

const PENDING = Symbol('responseCachePending');
type WithPending = FastifyRequest & { [PENDING]?: { key: string; pending: Pending; generation: number } };

/**
 * A short-lived cache of the answers of the read routes that many clients poll (dead-letter and
 * group lists, stats): identical GETs (same path and query) within `ttlMs` share one answer, and
 * identical GETs that arrive while it is being computed wait for it instead of running the same
 * query again. Authentication and the role check still run for every request (the answer of a
 * read route does not depend on who asks, only whether they may).
 *
 * Staleness is bounded: a change made through this server clears the cache at once; a change
 * made elsewhere (a worker dead-lettering, another server) shows after at most `ttlMs`.
 * `ttlMs` 0 turns the cache off.
 */
export class ResponseCache {
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;
  private readonly entries = new Map<string, Entry>();
  private readonly pending = new Map<string, Pending>();
  /** Bumped by every change; an answer computed across a change is not stored. */
  private generation = 0;

  constructor(options: { ttlMs: number; maxEntries?: number; now?: () => number }) {
    this.ttlMs = options.ttlMs;
    this.maxEntries = options.maxEntries ?? 500;
    this.now = options.now ?? Date.now;
  }

  get enabled(): boolean {
    return this.ttlMs > 0;
  }

  /** Forgets every answer: called after any change made through the API. */
  clear(): void {
    this.generation++;
    this.entries.clear();
  }

  /**
   * An `onRequest` hook (after authentication): answers from the cache (and returns the reply),
   * or waits for an identical request in flight, or lets the request run.
   */
  async serve(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
    if (!this.cacheable(request)) return undefined;
    const key = request.url;
    for (let waited = false; ; waited = true) {
      const hit = this.fresh(key);
      if (hit) {
        return reply.header('X-Cache', 'hit').type(hit.contentType).send(hit.payload);
      }
      const inFlight = this.pending.get(key);
      // After one wait, compute: the other request failed or its answer was not stored.
      if (!inFlight || waited) break;
      await inFlight.done;
    }
    let settle: () => void = () => undefined;
    const done = new Promise<void>((resolve) => {
      settle = resolve;
    });
    const pending = { done, settle };
    if (!this.pending.has(key)) this.pending.set(key, pending);
    (request as WithPending)[PENDING] = { key, pending, generation: this.generation };
    reply.header('X-Cache', 'miss');
    return undefined;
  }

  /** `onSend`: stores a successful answer computed by {@link serve}'s request. */
  async store(request: FastifyRequest, reply: FastifyReply, payload: unknown): Promise<void> {
    const mark = (request as WithPending)[PENDING];
    if (!mark || reply.statusCode !== 200 || typeof payload !== 'string') return;
    if (mark.generation !== this.generation) return;
    const contentType = String(reply.getHeader('content-type') ?? 'application/json; charset=utf-8');
    if (this.entries.size >= this.maxEntries) this.evict();
    this.entries.set(mark.key, { payload, contentType, expiresAt: this.now() + this.ttlMs });
  }

  /** `onResponse`: wakes the identical requests waiting; clears the cache after a change. */
  async finish(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const mark = (request as WithPending)[PENDING];
    if (mark) {
      if (this.pending.get(mark.key) === mark.pending) this.pending.delete(mark.key);
      mark.pending.settle();
    }
    if (request.method !== 'GET' && request.method !== 'HEAD' && reply.statusCode < 400) this.clear();
  }

  private cacheable(request: FastifyRequest): boolean {
    return this.enabled && request.method === 'GET' && request.routeOptions.config.cache === true;
  }

  private fresh(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt > this.now()) return entry;
    this.entries.delete(key);
    return undefined;
  }

  /** Drops expired answers, then the oldest ones, to make room. */
  private evict(): void {
    const now = this.now();
    for (const [key, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(key);
    for (const key of this.entries.keys()) {
      if (this.entries.size < this.maxEntries) break;
      this.entries.delete(key);
    }
  }
}
