// The nginx backends every benchmark uses (one worker process, 4 servers): a 100-byte body naming
// the port for any path, 64 KiB for any path containing "big64k"; and a plain GET helper.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { backendBody, bigBody } from './body.mjs';

export function nginxConf(dir, ports) {
  const servers = ports
    .map(
      (p) => `    server {
        listen 127.0.0.1:${p};
        location / { return 200 '${backendBody(p)}'; }
        location ~ big64k { root ${dir}; try_files /big64k.bin =404; }
    }`,
    )
    .join('\n');
  return `daemon off;
master_process on;
user nobody nogroup;
worker_processes 1;
worker_rlimit_nofile 16384;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 8192; }
http {
    access_log off;
    default_type text/plain;
    keepalive_timeout 65;
    keepalive_requests 1000000;
    client_body_temp_path ${dir}/body;
    proxy_temp_path ${dir}/proxy;
    fastcgi_temp_path ${dir}/fastcgi;
    uwsgi_temp_path ${dir}/uwsgi;
    scgi_temp_path ${dir}/scgi;
${servers}
}
`;
}

/** Writes the config and the 64 KiB file into `dir`; returns nginx's arguments. */
export function prepareNginx(dir, ports) {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'big64k.bin'), bigBody());
  const conf = path.join(dir, 'nginx.conf');
  fs.writeFileSync(conf, nginxConf(dir, ports));
  return ['-p', `${dir}/`, '-e', path.join(dir, 'error.log'), '-c', conf];
}

/** GET 127.0.0.1:port/urlPath → { status, body } or { status: 0, error }; never rejects. */
export function httpGet(port, urlPath, agent) {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, agent, timeout: 3000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err) => resolve({ status: 0, error: err.message }));
  });
}
