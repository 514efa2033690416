import { z } from 'zod';
import { MalformedError, PermanentError } from '../core/errors.ts';
import type { Group } from '../core/group.ts';
import type { ClaimedMessage, Json } from '../core/message.ts';
import type { QueueRecord, QueueSettingsInput } from '../core/queue-settings.ts';
import { resolveQueueSettings } from '../core/queue-settings.ts';
import type { Deadletter, QueueStatsReport } from './deadletter.ts';
import type { Handler, Worker, WorkerCounters } from './worker.ts';

/**
 * `dlq demo`: a realistic mixed workload on three queues, so that a first look at Deadletter
 * shows what it is for. Most messages succeed; some fail transiently and recover (a reset
 * connection, a 503, a 429), some hang past their lease, some are malformed, and a few hit
 * three distinct bugs. The errors have the shapes real libraries throw (Node's `ECONNRESET`,
 * an HTTP client's status error, node-postgres's unique violation, Stripe's card error, zod).
 *
 * The queues are prefixed `demo.` so that the demo never sends into an application's own
 * queues when it runs on a real store.
 */

/** Options of {@link runDemo}. */
export interface DemoOptions {
  dl: Deadletter;
  /** Receives progress lines. */
  log: (line: string) => void;
  /** Messages sent across the demo queues. Default 300. */
  messages?: number;
  /** Seed of the workload's mix: the same seed sends the same messages with the same faults. Default 7. */
  seed?: number;
  /** Aborting it stops the workers gracefully; the report then shows what was done so far. */
  signal?: AbortSignal;
}

/** What the demo did and found. */
export interface DemoReport {
  /** Messages sent per queue. */
  sent: Record<string, number>;
  /** Counters of each queue's worker. */
  workers: Record<string, WorkerCounters>;
  /** Stats of the demo queues (cumulative if the demo ran before on this store). */
  stats: QueueStatsReport[];
  /** Groups with dead letters from the demo queues, largest first. */
  groups: Group[];
  durationMs: number;
}

/** The demo's queues: short leases and fast backoff so the whole run takes a few seconds. */
export const DEMO_QUEUES = {
  emails: {
    name: 'demo.emails',
    settings: {
      maxReceives: 4,
      visibilityTimeout: '2s',
      backoff: 'exponential:20ms:200ms',
      retention: '14d',
    },
  },
  payments: {
    name: 'demo.payments',
    settings: {
      maxReceives: 3,
      visibilityTimeout: '2s',
      backoff: 'exponential:20ms:200ms',
      retention: '14d',
    },
  },
  webhooks: {
    name: 'demo.webhooks',
    settings: { maxReceives: 2, visibilityTimeout: '1s', backoff: 'fixed:50ms', retention: '14d' },
  },
} as const satisfies Record<string, { name: string; settings: QueueSettingsInput }>;

type DemoQueue = keyof typeof DEMO_QUEUES;

/**
 * Maintenance settings for the handle the demo runs on: a lease-expiry sweep every 100 ms
 * instead of every second, so that hung handlers are noticed quickly. Pass them to
 * `Deadletter.open({ maintenance })`; the demo works without them, only slower.
 */
export const DEMO_MAINTENANCE = { leaseSweepInterval: 100, tickMs: 50 } as const;

/** A fault injected into a simulated dependency for the first `times` receives of a message. */
type Fault =
  | { kind: 'reset'; times: number }
  | { kind: 'http'; status: 429 | 503; times: number }
  | { kind: 'hang'; times: number }
  | { kind: 'declined' };

interface PlannedMessage {
  body: Json;
  fault?: Fault;
}

/** Runs the demo workload on `dl` until every demo queue is drained, and reports. */
export async function runDemo(options: DemoOptions): Promise<DemoReport> {
  const { dl, log } = options;
  const started = Date.now();
  const total = options.messages ?? 300;
  const random = seededRandom(options.seed ?? 7);

  const records = new Map<DemoQueue, QueueRecord>();
  for (const key of Object.keys(DEMO_QUEUES) as DemoQueue[]) {
    records.set(key, await prepareQueue(dl, key));
  }
  log(`queues: ${[...records.values()].map(describeQueue).join('; ')}`);

  const shares: Record<DemoQueue, number> = {
    emails: Math.round(total * 0.4),
    payments: Math.round(total * 0.3),
    webhooks: 0,
  };
  shares.webhooks = Math.max(0, total - shares.emails - shares.payments);
  const plans: Record<DemoQueue, PlannedMessage[]> = {
    emails: planEmails(shares.emails, random),
    payments: planPayments(shares.payments, random),
    webhooks: planWebhooks(shares.webhooks, random),
  };

  const faults = new Map<string, Fault>();
  const sent: Record<string, number> = {};
  for (const key of Object.keys(plans) as DemoQueue[]) {
    const planned = plans[key];
    const results = await dl.sendBatch(
      DEMO_QUEUES[key].name,
      planned.map((plan) => ({
        body: plan.body,
        headers: { 'x-demo': 'true', 'content-type': 'application/json' },
      })),
    );
    results.forEach((result, index) => {
      const fault = planned[index]?.fault;
      if (fault) faults.set(result.id, fault);
    });
    sent[DEMO_QUEUES[key].name] = results.length;
  }
  log(
    `sent ${Object.entries(sent)
      .map(([queue, n]) => `${n} to ${queue}`)
      .join(', ')}`,
  );

  const world = new SimulatedWorld(dl, faults, random);
  const handlers: Record<DemoQueue, Handler> = {
    emails: (message) => world.sendEmail(message),
    payments: (message) => world.chargePayment(message),
    webhooks: (message) =>
      world.deliverWebhook(message, records.get('webhooks')?.visibilityTimeoutMs ?? 1_000),
  };
  log('workers running until every demo queue is drained (leases that expire take a second or two)...');
  const workers = new Map<DemoQueue, Worker>();
  for (const key of Object.keys(handlers) as DemoQueue[]) {
    const worker = await dl.work(DEMO_QUEUES[key].name, handlers[key], {
      concurrency: 16,
      drain: true,
      pollInterval: 50,
      shutdownTimeout: 5_000,
      workerVersion: 'demo-1.0.0',
      onError: (error) => log(`worker error: ${error instanceof Error ? error.message : String(error)}`),
    });
    workers.set(key, worker);
  }
  const stop = () => {
    for (const worker of workers.values()) void worker.stop();
  };
  options.signal?.addEventListener('abort', stop, { once: true });
  try {
    await Promise.all([...workers.values()].map((worker) => worker.stopped));
  } finally {
    options.signal?.removeEventListener('abort', stop);
  }

  const names = new Set<string>(Object.values(DEMO_QUEUES).map((queue) => queue.name));
  const stats = (await dl.stats()).filter((row) => names.has(row.queue));
  const groups = new Map<string, Group>();
  for (const name of names) {
    for (const group of await dl.listGroups({ queue: name, limit: 100 })) groups.set(group.id, group);
  }
  const workerCounters: Record<string, WorkerCounters> = {};
  for (const [key, worker] of workers) workerCounters[DEMO_QUEUES[key].name] = { ...worker.counters };
  const durationMs = Date.now() - started;
  log(`done in ${(durationMs / 1000).toFixed(1)}s`);
  return {
    sent,
    workers: workerCounters,
    stats,
    groups: [...groups.values()].sort((a, b) => b.count - a.count || a.id.localeCompare(b.id)),
    durationMs,
  };
}

/**
 * Creates a demo queue, or brings an existing one back to the demo's settings (the demo owns
 * the `demo.` queues; a queue left with a 30 s lease would make the run slow).
 */
async function prepareQueue(dl: Deadletter, key: DemoQueue): Promise<QueueRecord> {
  const { name, settings } = DEMO_QUEUES[key];
  const record = await dl.ensureQueue(name, settings);
  const wanted = resolveQueueSettings(settings);
  const differs = (Object.keys(wanted) as (keyof typeof wanted)[]).some(
    (field) => JSON.stringify(wanted[field]) !== JSON.stringify(record[field]),
  );
  return differs ? dl.updateQueue(name, settings) : record;
}

function describeQueue(record: QueueRecord): string {
  return `${record.name} (max receives ${record.maxReceives}, lease ${record.visibilityTimeoutMs}ms)`;
}

// ---- the workload

const TEMPLATES = ['welcome', 'receipt', 'password-reset'] as const;

/** Accounts the e-mail worker looks up; ids 900+ were deleted after their event was queued. */
const DELETED_ACCOUNT_FLOOR = 900;

function planEmails(count: number, random: () => number): PlannedMessage[] {
  return Array.from({ length: count }, (_, index) => {
    const roll = random();
    const template = TEMPLATES[index % TEMPLATES.length] as string;
    const userId = 100 + Math.floor(random() * 700);
    if (roll < 0.06) {
      // Bug: the account was deleted before its welcome mail went out; the lookup returns undefined.
      return { body: { template: 'welcome', userId: DELETED_ACCOUNT_FLOOR + index, locale: 'en' } };
    }
    if (roll < 0.11) {
      // Malformed: an old producer sends the template under a new name and the id as a string.
      return { body: { template: 'welcome_v2', userId: `u-${userId}`, locale: 'en' } };
    }
    const body = { template, userId, locale: random() < 0.8 ? 'en' : 'de' };
    if (roll < 0.23) return { body, fault: { kind: 'reset', times: 1 + Math.floor(random() * 2) } };
    return { body };
  });
}

function planPayments(count: number, random: () => number): PlannedMessage[] {
  const planned: PlannedMessage[] = [];
  for (let index = 0; index < count; index++) {
    const roll = random();
    const body = {
      paymentId: `pay_${(index + 1).toString().padStart(5, '0')}`,
      customerId: `cus_${Math.floor(random() * 1e6).toString(36)}`,
      amountCents: 500 + Math.floor(random() * 20_000),
      currency: random() < 0.7 ? 'eur' : 'usd',
      idempotencyKey: `checkout-${Math.floor(random() * 1e9).toString(36)}`,
    };
    const previous = planned[planned.length - 1]?.body as typeof body | undefined;
    if (roll < 0.03) {
      // Malformed: a producer that sends the amount as a decimal string.
      planned.push({ body: { ...body, amountCents: (body.amountCents / 100).toFixed(2) } });
    } else if (roll < 0.08 && previous) {
      // Bug: the checkout page double-submits; the second payment reuses the first one's key.
      planned.push({ body: { ...body, idempotencyKey: previous.idempotencyKey } });
    } else if (roll < 0.12) planned.push({ body, fault: { kind: 'declined' } });
    else if (roll < 0.23) planned.push({ body, fault: { kind: 'http', status: 503, times: 1 } });
    else planned.push({ body });
  }
  return planned;
}

function planWebhooks(count: number, random: () => number): PlannedMessage[] {
  return Array.from({ length: count }, (_, index) => {
    const roll = random();
    const partner = 1 + Math.floor(random() * 12);
    const event = { id: `evt_${index + 1}`, type: 'order.created', orderId: 10_000 + index };
    const body = {
      endpoint: `https://hooks.partner-${partner}.example/deadletter/${index + 1}`,
      payload: JSON.stringify(event),
    };
    // Malformed: a producer cut the payload off at 40 characters.
    if (roll < 0.05) return { body: { ...body, payload: JSON.stringify(event).slice(0, 40) } };
    if (roll < 0.1) return { body, fault: { kind: 'http', status: 503, times: Number.POSITIVE_INFINITY } };
    if (roll < 0.15) return { body, fault: { kind: 'hang', times: Number.POSITIVE_INFINITY } };
    if (roll < 0.21) return { body, fault: { kind: 'hang', times: 1 } };
    if (roll < 0.29) return { body, fault: { kind: 'http', status: 429, times: 1 } };
    return { body };
  });
}

// ---- simulated dependencies, throwing what the real ones throw

const emailEvent = z.object({
  template: z.enum(TEMPLATES),
  userId: z.number().int().positive(),
  locale: z.string().min(2),
});

interface Account {
  email: string;
  name: string;
}

/** An HTTP client's error for a non-2xx response (the shape of got's and ky's `HTTPError`). */
class HTTPError extends Error {
  readonly response: { status: number; statusText: string; url: string };
  constructor(status: number, statusText: string, url: string) {
    super(`Response code ${status} (${statusText})`);
    this.name = 'HTTPError';
    this.response = { status, statusText, url };
  }
}

/** node-postgres's error for a failed statement: SQLSTATE in `code`. */
class DatabaseError extends Error {
  readonly code: string;
  readonly detail: string;
  readonly table: string;
  readonly constraint: string;
  constructor(message: string, fields: { code: string; detail: string; table: string; constraint: string }) {
    super(message);
    this.name = 'DatabaseError';
    this.code = fields.code;
    this.detail = fields.detail;
    this.table = fields.table;
    this.constraint = fields.constraint;
  }
}

/** Stripe's error for a declined card. */
class StripeCardError extends Error {
  readonly type = 'card_error';
  readonly code = 'card_declined';
  readonly decline_code = 'insufficient_funds';
  readonly statusCode = 402;
  constructor() {
    super('Your card was declined.');
    this.name = 'StripeCardError';
  }
}

const STATUS_TEXT: Record<number, string> = { 429: 'Too Many Requests', 503: 'Service Unavailable' };

/** The services the demo handlers talk to: an SMTP relay, a card processor, a ledger, partners' endpoints. */
class SimulatedWorld {
  private readonly dl: Deadletter;
  private readonly faults: Map<string, Fault>;
  private readonly random: () => number;
  /** The payments table's unique index on idempotency_key. */
  private readonly ledger = new Set<string>();

  constructor(dl: Deadletter, faults: Map<string, Fault>, random: () => number) {
    this.dl = dl;
    this.faults = faults;
    this.random = random;
  }

  async sendEmail(message: ClaimedMessage): Promise<void> {
    // Throws zod's ZodError for an event that fails its schema (tier malformed).
    const event = emailEvent.parse(message.body);
    const account = this.lookupAccount(event.userId) as Account;
    const recipient = account.email;
    await this.smtpSend(message, recipient, event.template);
  }

  async chargePayment(message: ClaimedMessage): Promise<void> {
    const payment = message.body as { paymentId: string; amountCents: unknown; idempotencyKey: string };
    if (typeof payment.amountCents !== 'number' || !Number.isInteger(payment.amountCents)) {
      throw new MalformedError(
        `payment ${payment.paymentId}: amountCents must be a whole number of cents, got ${JSON.stringify(payment.amountCents)}`,
      );
    }
    await this.latency();
    const fault = this.faultFor(message);
    if (fault?.kind === 'http')
      throw new HTTPError(fault.status, statusText(fault.status), 'https://api.processor.example/v1/charges');
    if (fault?.kind === 'declined') {
      throw new PermanentError(`payment ${payment.paymentId} was declined: Your card was declined.`, {
        cause: new StripeCardError(),
      });
    }
    this.insertPayment(payment.idempotencyKey);
  }

  async deliverWebhook(message: ClaimedMessage, leaseMs: number): Promise<void> {
    const body = message.body as { endpoint: string; payload: string };
    // Throws SyntaxError for a payload that is not JSON (tier malformed).
    const event = JSON.parse(body.payload) as { id: string; type: string };
    const fault = this.faultFor(message);
    if (fault?.kind === 'hang') {
      // A partner that accepts the connection and never answers, and a handler that ignores
      // its AbortSignal: the lease runs out and the message is received again (or dies as a
      // timeout). The zombie returns only once its lease is gone, so its late ack is refused
      // however slow the machine is.
      await this.hangUntilLeaseLost(message, leaseMs);
      return;
    }
    await this.latency();
    if (fault?.kind === 'http') {
      throw new HTTPError(fault.status, statusText(fault.status), `${body.endpoint}?event=${event.id}`);
    }
  }

  private async hangUntilLeaseLost(message: ClaimedMessage, leaseMs: number): Promise<void> {
    const giveUpAt = Date.now() + leaseMs * 20;
    while (Date.now() < giveUpAt) {
      await sleep(Math.min(100, leaseMs / 4));
      const current = await this.dl.getMessage(message.id).catch(() => undefined);
      if (current?.state !== 'leased' || current.receives !== message.receives) return;
    }
  }

  private lookupAccount(userId: number): Account | undefined {
    if (userId >= DELETED_ACCOUNT_FLOOR) return undefined;
    return { email: `user${userId}@example.com`, name: `User ${userId}` };
  }

  private async smtpSend(message: ClaimedMessage, _to: string, _template: string): Promise<void> {
    await this.latency();
    const fault = this.faultFor(message);
    if (fault?.kind === 'reset') {
      throw Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET', errno: -104, syscall: 'read' });
    }
  }

  private insertPayment(idempotencyKey: string): void {
    if (this.ledger.has(idempotencyKey)) {
      throw new DatabaseError('duplicate key value violates unique constraint "payments_idempotency_key"', {
        code: '23505',
        detail: `Key (idempotency_key)=(${idempotencyKey}) already exists.`,
        table: 'payments',
        constraint: 'payments_idempotency_key',
      });
    }
    this.ledger.add(idempotencyKey);
  }

  /** The fault planned for this message, if it still applies on this receive. */
  private faultFor(message: ClaimedMessage): Fault | undefined {
    const fault = this.faults.get(message.id);
    if (!fault) return undefined;
    if (fault.kind === 'declined') return fault;
    return message.receives <= fault.times ? fault : undefined;
  }

  private latency(): Promise<void> {
    return sleep(2 + Math.floor(this.random() * 20));
  }
}

function statusText(status: number): string {
  return STATUS_TEXT[status] ?? 'Error';
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** mulberry32: a small seeded generator, so that the same seed gives the same workload. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
