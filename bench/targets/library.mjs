// The library under test, as users get it: the built package (dist/esm/index.js).
//
//   node targets/library.mjs express   app.use(balancer(config)) in Express 5
//   node targets/library.mjs node      http.createServer((req, res) => lb(req, res))  (Connect-style)
//
// One balancer mounted at "/", one member per BACKENDS URL, library defaults (byrequests,
// X-Forwarded-* on, keep-alive agents per worker). STICKY=NAME adds stickysession NAME and routes
// r1..rN in member order; LBMETHOD overrides the scheduler.
import { createRequire } from 'node:module';
import { setTimeout as delay } from 'node:timers/promises';
import { BACKENDS, serve } from './common.mjs';

const require = createRequire(import.meta.url);
const host = process.argv[2];
if (host !== 'express' && host !== 'node') {
  console.error('usage: node targets/library.mjs express|node');
  process.exit(2);
}

// dist/ may be rebuilt by someone else at the moment we start: retry the import for a while.
async function importLibrary() {
  const url = new URL('../../dist/esm/index.js', import.meta.url);
  for (let i = 0; ; i++) {
    try {
      return await import(url.href);
    } catch (err) {
      if (i >= 60) throw err;
      await delay(500);
    }
  }
}
const { balancer } = await importLibrary();

const sticky = process.env.STICKY || undefined;
const members = BACKENDS.map((url, i) => (sticky ? { url, route: `r${i + 1}` } : { url }));
const lb = balancer({
  balancers: [
    {
      name: 'bench',
      mount: '/',
      members,
      ...(sticky && { stickysession: sticky }),
      ...(process.env.LBMETHOD && { lbmethod: process.env.LBMETHOD }),
    },
  ],
});

let handler;
if (host === 'express') {
  const app = require('express')();
  app.use(lb);
  handler = app;
} else {
  handler = (req, res) => lb(req, res);
}
serve(`library-${host}`, handler, () => ({ workers: lb.balancers[0].workers.length }));
