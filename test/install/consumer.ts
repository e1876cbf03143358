// The consumer project the install test builds around the installed package.

/** package.json of the consumer project: the package under test plus the versions we test against. */
export function consumerPackageJson(spec: string, ours: Record<string, string>): object {
  const pick = (name: string): string => {
    const v = ours[name];
    if (v === undefined) throw new Error(`package.json has no devDependency ${name}`);
    return v;
  };
  return {
    name: 'consumer',
    private: true,
    type: 'module',
    dependencies: {
      'express-proxy-balancer': spec,
      express: pick('express'),
      express4: pick('express4'),
      '@types/express': pick('@types/express'),
      '@types/node': pick('@types/node'),
    },
  };
}

const strict = { strict: true, target: 'es2022', noEmit: true, types: ['node'] };

/**
 * Strict TypeScript with each resolution mode a user of an ESM package is likely to have. One of
 * them also checks the declaration files (skipLibCheck off), so a declaration that imports a
 * package the user does not have (one of our devDependencies) fails here.
 */
export const TSCONFIGS: Record<string, object> = {
  'tsconfig.node16.json': {
    compilerOptions: { ...strict, module: 'node16', moduleResolution: 'node16', skipLibCheck: false },
    files: ['types.ts'],
  },
  'tsconfig.bundler.json': {
    compilerOptions: { ...strict, module: 'esnext', moduleResolution: 'bundler', skipLibCheck: true },
    files: ['types.ts'],
  },
};

/** An ESM + Express 5 program using the public API and types; only type-checked. */
export const TYPES_CONSUMER = `
import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import { balancer, managerRouter, ConfigError } from 'express-proxy-balancer';
import type { BalancerConfig, BalancerMiddleware, ErrorInfo, MemberOptions, WorkerStateEvent } from 'express-proxy-balancer';

const members: MemberOptions[] = [
  { url: 'http://127.0.0.1:8081', route: 'node1', loadfactor: 1 },
  { url: 'http://127.0.0.1:8082', route: 'spare', status: '+H' },
];

const config: BalancerConfig = {
  balancers: [{ name: 'app', mount: '/app', lbmethod: 'byrequests', stickysession: 'JSESSIONID', members }],
  onError: (info: ErrorInfo, _req, res) => {
    res.writeHead(info.status, { 'content-type': 'text/plain' });
    res.end(info.error.code);
  },
};

function requireAdmin(req: Request, res: Response, next: NextFunction): void {
  if (req.get('authorization') === 'Bearer change-me') next();
  else res.status(401).end();
}

let lb: BalancerMiddleware;
try {
  lb = balancer(config);
} catch (err) {
  if (err instanceof ConfigError) console.error(err.message);
  throw err;
}
lb.balancers[0]?.on('statechange', (e: WorkerStateEvent) => console.log(e.worker, e.from, e.to));

const app = express();
app.use('/balancer-manager', requireAdmin, managerRouter(lb));
app.use(lb);
const server = lb.attach(app.listen(0));
server.close();

// @ts-expect-error a member needs a url
const noUrl: MemberOptions = { route: 'x' };
void noUrl;
`;
