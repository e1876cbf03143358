import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { freePort } from '../redis/redis-server.js';

export const DNSMASQ_BIN = process.env.DNSMASQ ?? '/usr/sbin/dnsmasq';

/** Skip reason when dnsmasq is not installed (printed visibly), else undefined. */
export function dnsmasqSkip(): string | undefined {
  if (existsSync(DNSMASQ_BIN)) return undefined;
  const msg = `SKIPPED: ${DNSMASQ_BIN} is not installed (apt-get install dnsmasq); the DNS discovery tests did not run`;
  console.log(`# ${msg}`);
  return msg;
}

/** A loopback port free for both TCP and UDP (DNS answers too large for UDP come again over TCP). */
async function freeDnsPort(): Promise<number> {
  for (;;) {
    const port = await freePort();
    const sock = dgram.createSocket('udp4');
    const ok = await new Promise<boolean>((resolve) => {
      sock.once('error', () => resolve(false));
      sock.bind(port, '127.0.0.1', () => resolve(true));
    });
    await new Promise<void>((resolve) => sock.close(() => resolve()));
    if (ok) return port;
  }
}

/**
 * A real dnsmasq on 127.0.0.1, answering only from its own files: `conf` lines (srv-host, host-record)
 * fixed at start, the hosts file re-read on SIGHUP (setHosts). The `.test` domain is local: a name it
 * does not know is NXDOMAIN, not a refusal. Stopped by its PID.
 */
export class Dnsmasq {
  port = 0;
  #dir = '';
  #proc: ChildProcess | undefined;
  #log = '';
  #reads = 0;
  readonly #conf: string[];

  constructor(conf: string[] = []) {
    this.#conf = conf;
  }

  /** "127.0.0.1:port", for the `servers` option. */
  get server(): string {
    return `127.0.0.1:${this.port}`;
  }

  get #hosts(): string {
    return path.join(this.#dir, 'hosts');
  }

  async start(hosts = '', port?: number): Promise<this> {
    if (this.#dir === '') {
      this.#dir = await mkdtemp(path.join(os.tmpdir(), 'epb-dnsmasq-'));
      // dnsmasq re-reads the hosts file after dropping root, as whichever user it runs as.
      await chmod(this.#dir, 0o755);
      await writeFile(path.join(this.#dir, 'dnsmasq.conf'), ['local=/test/', ...this.#conf, ''].join('\n'));
    }
    await writeFile(this.#hosts, hosts, { mode: 0o644 });
    this.port = port ?? (this.port || (await freeDnsPort()));
    const args = [
      '--no-daemon',
      `--conf-file=${path.join(this.#dir, 'dnsmasq.conf')}`,
      '--no-resolv',
      '--no-hosts',
      `--addn-hosts=${this.#hosts}`,
      `--port=${this.port}`,
      '--listen-address=127.0.0.1',
      '--bind-interfaces',
      '--local-ttl=1',
      '--pid-file=',
      '--log-facility=-',
    ];
    if (process.getuid?.() === 0) args.push('--user=root');
    const proc = spawn(DNSMASQ_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#proc = proc;
    this.#log = '';
    this.#reads = 0;
    const onData = (d: Buffer): void => {
      this.#log += d.toString();
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    await this.#waitForRead(1);
    return this;
  }

  /** Rewrites the hosts file ("127.0.0.2 api.test" lines) and makes dnsmasq re-read it (SIGHUP). */
  async setHosts(hosts: string): Promise<void> {
    await writeFile(this.#hosts, hosts);
    const pid = this.#proc?.pid;
    if (pid === undefined) throw new Error('dnsmasq is not running');
    const want = this.#reads + 1;
    process.kill(pid, 'SIGHUP');
    await this.#waitForRead(want);
  }

  async #waitForRead(n: number): Promise<void> {
    const proc = this.#proc!;
    const deadline = Date.now() + 5000;
    for (;;) {
      this.#reads = (this.#log.match(/read \S+hosts - \d+ names?/g) ?? []).length;
      if (this.#reads >= n) return;
      if (proc.exitCode !== null) throw new Error(`dnsmasq exited (${proc.exitCode}): ${this.#log}`);
      if (Date.now() > deadline) throw new Error(`dnsmasq did not read its hosts file: ${this.#log}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** SIGTERM by PID; waits until it is gone (later queries are refused). */
  async stop(): Promise<void> {
    const proc = this.#proc;
    this.#proc = undefined;
    if (proc?.pid === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    process.kill(proc.pid, 'SIGTERM');
    await gone;
  }

  /** stop(), and its files go. */
  async dispose(): Promise<void> {
    await this.stop();
    if (this.#dir !== '') await rm(this.#dir, { recursive: true, force: true });
  }
}

/**
 * An HTTP backend on a loopback address of its own (127.0.0.x, same port for all: A records carry
 * no port). Answers 200 with its address; `hold()` keeps the next request open until released.
 */
export class AddressBackend {
  readonly host: string;
  hits = 0;
  #server: http.Server | undefined;
  #held: (() => void)[] = [];
  #holdNext = false;
  #arrived: (() => void) | undefined;

  constructor(host: string) {
    this.host = host;
  }

  async start(port: number): Promise<this> {
    const server = http.createServer((req, res) => {
      req.resume();
      this.hits++;
      const answer = (): void => void res.writeHead(200, { 'x-upstream': this.host }).end(this.host);
      if (this.#holdNext) {
        this.#holdNext = false;
        this.#held.push(answer);
        this.#arrived?.();
      } else answer();
    });
    server.keepAliveTimeout = 1000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, this.host, () => resolve());
    });
    this.#server = server;
    return this;
  }

  get port(): number {
    return (this.#server?.address() as AddressInfo).port;
  }

  /** The next request waits for release(); resolves once it has arrived. */
  hold(): Promise<void> {
    this.#holdNext = true;
    return new Promise((resolve) => (this.#arrived = resolve));
  }

  release(): void {
    for (const answer of this.#held.splice(0)) answer();
  }

  async stop(): Promise<void> {
    this.release();
    const server = this.#server;
    this.#server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** A port free on every one of these loopback addresses. */
export async function commonPort(hosts: readonly string[]): Promise<number> {
  for (;;) {
    const port = await freePort();
    const servers: http.Server[] = [];
    let ok = true;
    for (const h of hosts) {
      const s = http.createServer();
      const bound = await new Promise<boolean>((resolve) => {
        s.once('error', () => resolve(false));
        s.listen(port, h, () => resolve(true));
      });
      if (!bound) ok = false;
      else servers.push(s);
    }
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    if (ok) return port;
  }
}
