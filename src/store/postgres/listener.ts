import { Client, type ClientConfig, type Notification } from 'pg';
import { quoteIdent } from './connection.ts';

/** Tuning of {@link NotificationListener}; the defaults suit production. */
export interface ListenerTiming {
  /** First delay before reconnecting after a lost connection; doubles up to `maxBackoffMs`. */
  minBackoffMs: number;
  maxBackoffMs: number;
  /** How often the idle connection is checked with a query (0: never). */
  heartbeatMs: number;
  /** How long that check may take before the connection is deemed dead. */
  heartbeatTimeoutMs: number;
}

const DEFAULT_TIMING: ListenerTiming = {
  minBackoffMs: 100,
  maxBackoffMs: 5_000,
  heartbeatMs: 30_000,
  heartbeatTimeoutMs: 10_000,
};

/** A subscription of {@link NotificationListener.subscribe}. */
export interface Subscription {
  close: () => Promise<void>;
}

/**
 * LISTENs on one channel over a dedicated connection (never a pooled one: a pooled connection
 * is handed to other queries and its LISTEN would be lost or leak to them) and wakes the
 * subscribers of the queue named in each notification's payload.
 *
 * A lost connection (server restart, `pg_terminate_backend`, a network cut found by the
 * heartbeat) is re-established with exponential backoff and jitter, LISTENs again, and then
 * calls every subscriber once: messages may have arrived while nobody was listening. Until
 * then the workers' polling covers the gap.
 */
export class NotificationListener {
  private readonly subscribers = new Map<string, Set<() => void>>();
  private client: Client | undefined;
  private backendPid: number | undefined;
  private connecting: Promise<void> | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private connects = 0;
  private closed = false;
  private readonly timing: ListenerTiming;

  /** `config` opens the dedicated connection; `channel` is the channel name (unquoted). */
  constructor(
    private readonly config: ClientConfig,
    private readonly channel: string,
    timing: Partial<ListenerTiming> = {},
  ) {
    this.timing = { ...DEFAULT_TIMING, ...timing };
  }

  /**
   * Calls `onAvailable` on every notification for `queue`. Resolves once the connection is
   * listening, or once its first attempt failed (the subscription stays, and is woken when a
   * reconnect succeeds).
   */
  async subscribe(queue: string, onAvailable: () => void): Promise<Subscription> {
    if (this.closed) throw new Error('the store is closed');
    let callbacks = this.subscribers.get(queue);
    if (!callbacks) {
      callbacks = new Set();
      this.subscribers.set(queue, callbacks);
    }
    // Each subscription is its own entry, even when the same function subscribes twice.
    const entry = () => onAvailable();
    callbacks.add(entry);
    if (!this.client && !this.reconnectTimer) {
      this.connecting ??= this.connect().finally(() => {
        this.connecting = undefined;
      });
    }
    await this.connecting;
    return {
      close: async () => {
        const set = this.subscribers.get(queue);
        set?.delete(entry);
        if (set?.size === 0) this.subscribers.delete(queue);
      },
    };
  }

  /** The server process id of the listening connection, or undefined while disconnected (for tests and `dlq doctor`). */
  get processId(): number | undefined {
    return this.backendPid;
  }

  /** Ends the connection and every subscription; no reconnect follows. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    clearInterval(this.heartbeatTimer);
    this.reconnectTimer = undefined;
    await this.connecting;
    const client = this.client;
    this.client = undefined;
    this.backendPid = undefined;
    this.subscribers.clear();
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    this.connects += 1;
    const wakeAll = this.connects > 1;
    const client = new Client({ ...this.config, query_timeout: this.timing.heartbeatTimeoutMs });
    // Listeners first: an 'error' without one would crash the process.
    client.on('error', () => this.lost(client));
    client.on('end', () => this.lost(client));
    client.on('notification', (notification) => this.deliver(notification));
    let pid: number | undefined;
    try {
      await client.connect();
      await client.query(`LISTEN ${quoteIdent(this.channel)}`);
      const result = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      pid = result.rows[0]?.pid;
    } catch {
      // The reason is not kept: a refused or failed connection is retried until close, and the
      // workers keep polling meanwhile.
      await client.end().catch(() => undefined);
      if (!this.closed) this.scheduleReconnect();
      return;
    }
    if (this.closed) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.backendPid = pid;
    this.failures = 0;
    this.startHeartbeat(client);
    if (wakeAll) this.wakeAll();
  }

  private lost(client: Client): void {
    if (this.client !== client) return; // still connecting (connect handles it) or already replaced
    this.client = undefined;
    this.backendPid = undefined;
    clearInterval(this.heartbeatTimer);
    client.end().catch(() => undefined);
    if (!this.closed) this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.reconnectTimer) return;
    const ceiling = Math.min(this.timing.maxBackoffMs, this.timing.minBackoffMs * 2 ** this.failures);
    this.failures += 1;
    // Jitter between half and all of the ceiling: many processes cut off by one server restart
    // do not all come back in the same millisecond.
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (this.closed) return;
      this.connecting ??= this.connect().finally(() => {
        this.connecting = undefined;
      });
    }, delay);
    this.reconnectTimer.unref();
  }

  /** A connection silently cut (no FIN, no RST) is only noticed by using it. */
  private startHeartbeat(client: Client): void {
    if (this.timing.heartbeatMs <= 0) return;
    clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = setInterval(() => {
      client.query('SELECT 1').catch(() => this.lost(client));
    }, this.timing.heartbeatMs);
    this.heartbeatTimer.unref();
  }

  private deliver(notification: Notification): void {
    if (notification.channel !== this.channel || notification.payload === undefined) return;
    for (const callback of this.subscribers.get(notification.payload) ?? []) call(callback);
  }

  private wakeAll(): void {
    for (const callbacks of this.subscribers.values()) {
      for (const callback of callbacks) call(callback);
    }
  }
}

/** Calls a subscriber; one that throws must not keep the others from being woken. */
function call(callback: () => void): void {
  try {
    callback();
  } catch {
    // A wake-up is only a hint (polling is the fallback), so a failing subscriber is ignored.
  }
}
