// nginx as the native baseline of the gateway bench: the Debian package's binary, in the
// foreground, with its own config, pid, logs and temp paths under a temp dir; stopped by PID.
import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Child, start } from './proc.ts';

/** The nginx binary, or undefined when it is not installed. */
export function nginxBinary(): string | undefined {
  for (const candidate of ['/usr/sbin/nginx', 'nginx']) {
    try {
      execFileSync(candidate, ['-v'], { stdio: 'ignore' });
      return candidate;
    } catch {
      // not this one
    }
  }
  return undefined;
}

/**
 * The guide's routes in nginx terms: GET/HEAD /_next/image to the optimizer, everything else
 * to the fallback; HTTP/1.1 keep-alive pools to both, x-forwarded-* as our gateway sets them.
 */
function config(dir: string, port: number, optimizer: string, fallback: string): string {
  const hostPort = (url: string): string => new URL(url).host;
  const proxy = [
    'proxy_http_version 1.1;',
    'proxy_set_header Connection "";',
    'proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;',
    'proxy_set_header X-Forwarded-Proto $scheme;',
    'proxy_set_header X-Forwarded-Host $http_host;',
    // Responses are relayed through memory buffers only (no temp files to write).
    'proxy_max_temp_file_size 0;',
  ].join(' ');
  return `
daemon off;
worker_processes 1;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${join(dir, 'client_body')};
  proxy_temp_path ${join(dir, 'proxy')};
  fastcgi_temp_path ${join(dir, 'fastcgi')};
  uwsgi_temp_path ${join(dir, 'uwsgi')};
  scgi_temp_path ${join(dir, 'scgi')};
  upstream optimizer { server ${hostPort(optimizer)}; keepalive 128; }
  upstream fallback { server ${hostPort(fallback)}; keepalive 32; }
  map $request_method $image_app { GET optimizer; HEAD optimizer; default fallback; }
  server {
    listen 127.0.0.1:${port};
    location = /_next/image { proxy_pass http://$image_app; ${proxy} }
    location / { proxy_pass http://fallback; ${proxy} }
  }
}
`;
}

/** Starts nginx on 127.0.0.1:`port` in front of the two upstreams. */
export async function startNginx(
  binary: string,
  dir: string,
  port: number,
  upstreams: { optimizer: string; fallback: string },
): Promise<Child> {
  const root = join(dir, 'nginx');
  await mkdir(root, { recursive: true });
  const file = join(root, 'nginx.conf');
  await writeFile(file, config(root, port, upstreams.optimizer, upstreams.fallback));
  return start('nginx', binary, ['-p', root, '-e', join(root, 'error.log'), '-c', file]);
}
