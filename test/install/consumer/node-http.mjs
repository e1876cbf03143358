// ESM on plain node:http, as a user of the installed package writes it: one request proxied to a
// real backend, then everything stopped. Prints one JSON line for the test to check.
import http from 'node:http';
import { balancer } from 'express-proxy-balancer';

function listen(server) {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));
}

function get(port, path) {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode, body }));
      })
      .on('error', reject);
  });
}

const backend = http.createServer((req, res) => res.end(`backend ${req.url}`));
const backendPort = await listen(backend);
const lb = balancer({
  balancers: [{ name: 'app', mount: '/app', members: [{ url: `http://127.0.0.1:${backendPort}` }] }],
});
const server = http.createServer((req, res) =>
  lb(req, res, () => {
    res.statusCode = 404;
    res.end('not proxied');
  }),
);
const port = await listen(server);
const proxied = await get(port, '/app/hello?x=1');
const other = await get(port, '/elsewhere');
await lb.close();
server.close();
backend.close();
console.log(JSON.stringify({ entry: import.meta.resolve('express-proxy-balancer'), proxied, other }));
