// Load generator fallback when wrk is not installed: runs autocannon (devDependency) in this separate
// process and prints one JSON line in the same shape run.mjs parses from wrk.
//   node lib/autocannon-run.mjs '{"url":"http://127.0.0.1:19200/","connections":50,"duration":10,
//                                 "method":"GET","body":null,"requests":[{"headers":{...}}]}'
import autocannon from 'autocannon';

const o = JSON.parse(process.argv[2]);
const opts = {
  url: o.url,
  connections: o.connections,
  duration: o.duration,
  method: o.method ?? 'GET',
  ...(o.body && { body: o.body, headers: { 'content-type': 'application/octet-stream' } }),
  ...(o.requests && { requests: o.requests }),
};
const r = await autocannon(opts);
process.stdout.write(
  JSON.stringify({
    rps: r.requests.total / r.duration,
    requests: r.requests.total,
    seconds: r.duration,
    p50: r.latency.p50,
    p99: r.latency.p99,
    non2xx: r.non2xx,
    socketErrors: r.errors + r.timeouts,
  }) + '\n',
);
