/**
 * Where Redis is and how the store connects to it: one server (URL or options), a Sentinel group
 * (`sentinels` and `name`), or a Redis Cluster (`cluster` nodes, or an ioredis `Cluster` object).
 * The store opens its own two connections (commands and subscriber) with its own timeouts; a client
 * object passed in is only read for its options, never used or closed.
 */
import type { Cluster, ClusterNode, ClusterOptions, Redis as IoRedis, RedisOptions } from 'ioredis';

export type TargetKind = 'single' | 'sentinel' | 'cluster';

export interface Target {
  readonly kind: TargetKind;
  /** Server or sentinel options (single, sentinel). */
  readonly options: RedisOptions;
  /** Start-up nodes and options (cluster). */
  readonly nodes: ClusterNode[];
  readonly clusterOptions: ClusterOptions;
}

/** What the store talks to: a Redis connection or a Cluster (the commands the store uses exist on both). */
export type Conn = IoRedis | Cluster;

export interface IoredisModule {
  Redis: new (options: RedisOptions) => IoRedis;
  Cluster: new (nodes: ClusterNode[], options: ClusterOptions) => Cluster;
}

export interface Timeouts {
  connectTimeoutMs: number;
  commandTimeoutMs: number;
}

type Fail = (message: string) => Error;

/** Reads the `redis` option; throws through `fail` (a typed error) when it is none of the accepted shapes. */
export function parseTarget(redis: unknown, fail: Fail): Target {
  if (redis === undefined) return single({ host: '127.0.0.1', port: 6379 });
  if (typeof redis === 'string') return single(parseRedisUrl(redis, fail));
  if (typeof redis !== 'object' || redis === null || Array.isArray(redis)) {
    throw fail('RedisStore: redis must be a URL, ioredis options, { cluster: [nodes] }, or an ioredis client');
  }
  const o = redis as Record<string, unknown>;
  if ('isCluster' in o || typeof o.sendCommand === 'function') return fromClient(o, fail);
  if (o.cluster !== undefined) return fromClusterConfig(o, fail);
  // ioredis' own options carry `sentinels: null` when there are none.
  if (o.sentinels !== undefined && o.sentinels !== null) {
    if (!Array.isArray(o.sentinels) || o.sentinels.length === 0 || typeof o.name !== 'string' || o.name === '') {
      throw fail('RedisStore: Sentinel options need sentinels (a non-empty list) and name (the master group)');
    }
    return { kind: 'sentinel', options: { ...(o as RedisOptions) }, nodes: [], clusterOptions: {} };
  }
  return single({ ...(o as RedisOptions) });
}

function single(options: RedisOptions): Target {
  return { kind: 'single', options, nodes: [], clusterOptions: {} };
}

/** An ioredis Redis or Cluster object: its options are copied, the object itself is left alone. */
function fromClient(o: Record<string, unknown>, fail: Fail): Target {
  const options = o.options;
  if (typeof options !== 'object' || options === null) {
    throw fail('RedisStore: redis is a client object the store does not know (pass an ioredis Redis or Cluster)');
  }
  if (o.isCluster === true) {
    const nodes = o.startupNodes;
    if (!Array.isArray(nodes) || nodes.length === 0) {
      throw fail('RedisStore: the ioredis Cluster passed as redis has no start-up nodes to connect to');
    }
    return { kind: 'cluster', options: {}, nodes: [...(nodes as ClusterNode[])], clusterOptions: { ...options } };
  }
  return parseTarget({ ...(options as RedisOptions) }, fail);
}

function fromClusterConfig(o: Record<string, unknown>, fail: Fail): Target {
  const { cluster, ...rest } = o;
  if (!Array.isArray(cluster) || cluster.length === 0) {
    throw fail('RedisStore: cluster must be a non-empty list of nodes ("host:port" or { host, port })');
  }
  const nodes: ClusterNode[] = cluster.map((n: unknown) => {
    if (typeof n === 'string' && /^[^\s:]+:\d{1,5}$/.test(n)) return n;
    if (typeof n === 'object' && n !== null && typeof (n as { host?: unknown }).host === 'string') {
      return n;
    }
    throw fail(`RedisStore: cluster node ${JSON.stringify(n)} is not "host:port" or { host, port }`);
  });
  return { kind: 'cluster', options: {}, nodes, clusterOptions: rest };
}

/** redis://[user:password@]host:port[/db] and rediss:// as ioredis options. */
export function parseRedisUrl(url: string, fail: Fail): RedisOptions {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw fail('RedisStore: redis is not a valid URL');
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw fail('RedisStore: the URL must start with redis:// or rediss://');
  }
  const o: RedisOptions = {
    host: u.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
    port: u.port ? Number(u.port) : 6379,
  };
  if (u.username) o.username = decodeURIComponent(u.username);
  if (u.password) o.password = decodeURIComponent(u.password);
  const db = u.pathname.replace(/^\//, '');
  if (db !== '') o.db = Number(db);
  if (u.protocol === 'rediss:') o.tls = {};
  return o;
}

/** The target for messages and the manager, without credentials; `master` is the address last connected. */
export function describeTarget(t: Target, master: string | undefined): string {
  if (t.kind === 'sentinel') {
    return `Redis Sentinel group "${String(t.options.name)}" (master ${master ?? 'not yet known'})`;
  }
  if (t.kind === 'cluster') {
    const names = t.nodes.map(nodeName);
    const shown = names.slice(0, 3).join(', ') + (names.length > 3 ? `, +${names.length - 3}` : '');
    return `Redis Cluster (start-up nodes ${shown})`;
  }
  const o = t.options;
  const scheme = o.tls ? 'rediss' : 'redis';
  const where = o.path ? `unix:${o.path}` : `${o.host ?? '127.0.0.1'}:${o.port ?? 6379}`;
  return `${scheme}://${where}${o.db ? `/${o.db}` : ''}`;
}

function nodeName(n: ClusterNode): string {
  if (typeof n === 'string') return n.replace(/^rediss?:\/\/([^@/]*@)?/, '');
  if (typeof n === 'number') return `127.0.0.1:${n}`;
  return `${n.host ?? '127.0.0.1'}:${n.port ?? 6379}`;
}

/**
 * Opens one connection (not yet connected: lazyConnect). Commands fail fast instead of queueing,
 * since the store keeps its own queue and resyncs after an outage; a replica that answers READONLY
 * (a demoted master) makes the connection ask the sentinels again. ioredis' failoverDetector is left
 * off: its sentinel connections outlive quit() (ioredis 5.11).
 */
export function openConnection(mod: IoredisModule, t: Target, timeouts: Timeouts): Conn {
  const own: RedisOptions = {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResubscribe: true,
    connectTimeout: timeouts.connectTimeoutMs,
    commandTimeout: timeouts.commandTimeoutMs,
    retryStrategy: (times: number) => Math.min(50 * times, 500),
  };
  if (t.kind === 'cluster') {
    const user = t.clusterOptions;
    return new mod.Cluster(t.nodes, {
      ...user,
      lazyConnect: true,
      enableOfflineQueue: false,
      clusterRetryStrategy: (times: number) => Math.min(50 * times, 500),
      retryDelayOnFailover: user.retryDelayOnFailover ?? 100,
      redisOptions: {
        ...user.redisOptions,
        connectTimeout: timeouts.connectTimeoutMs,
        commandTimeout: timeouts.commandTimeoutMs,
        maxRetriesPerRequest: 0,
      },
    });
  }
  const options: RedisOptions = { ...t.options, ...own };
  if (t.kind === 'sentinel') {
    options.reconnectOnError = t.options.reconnectOnError ?? ((err: Error) => err.message.startsWith('READONLY'));
  }
  return new mod.Redis(options);
}

/** host:port this connection is talking to now (for Sentinel, the current master), if known. */
export function remoteOf(conn: Conn): string | undefined {
  const stream = (conn as { stream?: { remoteAddress?: string; remotePort?: number } }).stream;
  if (!stream?.remoteAddress || stream.remotePort === undefined) return undefined;
  return `${stream.remoteAddress}:${stream.remotePort}`;
}
