// GET /console: the operators' web console, three static files served by the
// server itself (no separate deployment, no build step). The page holds no
// data: it signs in with a token and reads everything through /graphql.
// A strict Content-Security-Policy allows only this server's own script,
// style and API, so injected markup could neither run nor send anything
// elsewhere.
import { readFileSync } from 'node:fs';
import { Hono } from 'hono';
import type { AuthEnv } from '../auth.ts';

const FILES = {
  'index.html': 'text/html; charset=utf-8',
  'console.js': 'text/javascript; charset=utf-8',
  'console.css': 'text/css; charset=utf-8',
} as const;

const HEADERS = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  // Served from memory and tiny: always revalidated, so an upgraded server's console is the one used.
  'Cache-Control': 'no-cache',
};

export function consoleRoutes(): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();
  const files = new Map(Object.entries(FILES).map(([name, type]) => [name, { body: readFileSync(new URL(`./${name}`, import.meta.url)), type }]));
  const serve = (name: keyof typeof FILES) => () => {
    const file = files.get(name)!;
    return new Response(file.body, { headers: { ...HEADERS, 'Content-Type': file.type } });
  };
  app.get('/console', serve('index.html'));
  app.get('/console/', serve('index.html'));
  app.get('/console/console.js', serve('console.js'));
  app.get('/console/console.css', serve('console.css'));
  return app;
}
