// CommonJS + Express 4, as a user of the installed package writes it: one request proxied to a real
// backend, one manager API call, then everything stopped. Prints one JSON line for the test to check.
/* global require */
/* eslint-disable @typescript-eslint/no-require-imports -- CommonJS is what this program tests */
const http = require('node:http');
const express = require('express4');
const { balancer, managerRouter } = require('express-proxy-balancer');

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

async function main() {
  const backend = http.createServer((req, res) => res.end(`backend ${req.url}`));
  const backendPort = await listen(backend);
  const lb = balancer({
    balancers: [{ name: 'app', mount: '/app', members: [{ url: `http://127.0.0.1:${backendPort}` }] }],
  });
  const app = express();
  app.use('/balancer-manager', managerRouter(lb));
  app.use(lb);
  const server = http.createServer(app);
  const port = await listen(server);
  const proxied = await get(port, '/app/hello?x=1');
  const manager = await get(port, '/balancer-manager/api/balancers');
  await lb.close();
  server.close();
  backend.close();
  console.log(
    JSON.stringify({
      entry: require.resolve('express-proxy-balancer'),
      express: require('express4/package.json').version.split('.')[0],
      proxied,
      managerStatus: manager.status,
      balancers: JSON.parse(manager.body).balancers.map((b) => b.name),
    }),
  );
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
