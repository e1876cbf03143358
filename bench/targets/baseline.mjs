// The reference proxies, round robin over BACKENDS (targets parsed once at start):
//
//   node targets/baseline.mjs httpproxy-node      plain node:http + http-proxy-3 (the library's engine), keep-alive agent
//   node targets/baseline.mjs httpproxy-express   Express 5 + the same
//   node targets/baseline.mjs httpproxy1-node     plain node:http + http-proxy 1.18.1 (the engine before), keep-alive agent
//   node targets/baseline.mjs hpm-express         Express 5 + http-proxy-middleware 3, defaults (no agent:
//                                                 http-proxy sends Connection: close, one backend connection per request)
//   node targets/baseline.mjs hpm-ka-express      Express 5 + http-proxy-middleware 3, keep-alive agent
//   node targets/baseline.mjs hpm-node | hpm-ka-node   the same two on plain node:http
//
// The usual Node recipes, as users write them.
import http from 'node:http';
import { createRequire } from 'node:module';
import { BACKENDS, serve } from './common.mjs';

const require = createRequire(import.meta.url);
const variant = process.argv[2];

function roundRobin(list) {
  let i = 0;
  return () => {
    const t = list[i];
    i = i + 1 === list.length ? 0 : i + 1;
    return t;
  };
}

function hpm(keepAlive) {
  const { createProxyMiddleware } = require('http-proxy-middleware');
  const next = roundRobin(BACKENDS);
  const options = { target: BACKENDS[0], router: () => next() };
  if (keepAlive) options.agent = new http.Agent({ keepAlive: true });
  return createProxyMiddleware(options);
}

function badGateway(_err, _req, res) {
  if (res && typeof res.writeHead === 'function') {
    if (!res.headersSent) res.writeHead(502, { 'Content-Type': 'text/plain' });
    res.end('bad gateway\n');
  }
}

function httpProxy() {
  const { createProxyServer } = require('http-proxy-3');
  const proxy = createProxyServer({ agent: new http.Agent({ keepAlive: true }) });
  proxy.on('error', badGateway);
  const next = roundRobin(BACKENDS.map((s) => new URL(s)));
  return (req, res) => {
    proxy.web(req, res, { target: next() });
  };
}

/** The engine the library used before, for comparison (a devDependency only). */
function httpProxy1() {
  const HttpProxy = require('http-proxy');
  const proxy = HttpProxy.createProxyServer({ agent: new http.Agent({ keepAlive: true }) });
  proxy.on('error', badGateway);
  // http-proxy 1.18.1 reads url.parse()-style fields (it prepends `target.path`), not WHATWG URL ones
  const next = roundRobin(
    BACKENDS.map((s) => {
      const u = new URL(s);
      return { protocol: u.protocol, host: u.hostname, hostname: u.hostname, port: u.port, path: u.pathname };
    }),
  );
  return (req, res) => {
    proxy.web(req, res, { target: next() });
  };
}

function express(handler) {
  const app = require('express')();
  app.use(handler);
  return app;
}

const variants = {
  'httpproxy-node': () => httpProxy(),
  'httpproxy-express': () => express(httpProxy()),
  'httpproxy1-node': () => httpProxy1(),
  'hpm-express': () => express(hpm(false)),
  'hpm-ka-express': () => express(hpm(true)),
  'hpm-node': () => hpm(false),
  'hpm-ka-node': () => hpm(true),
};
if (!variants[variant]) {
  console.error(`unknown variant ${variant}; one of: ${Object.keys(variants).join(', ')}`);
  process.exit(2);
}
serve(variant, variants[variant]());
