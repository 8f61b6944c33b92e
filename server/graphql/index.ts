// POST /graphql: the operators' query API on the same Hono app, behind the
// same bearer tokens (requireToken). The executor (yoga.ts: GraphQL Yoga,
// GraphQL Armor, graphql-jit) is loaded on the first query, not at start-up:
// it is most of the server's import time (about 0.7 of 1.3 CPU-seconds), and
// a device fleet's server may never be asked a GraphQL query.
// No GraphiQL: it would load its assets from a CDN these machines cannot
// reach; the console at /console is the browser's way in.
import type { Hono } from 'hono';
import { requireToken, type AuthEnv } from '../auth.ts';
import type { ServerContext } from '../context.ts';
import { HttpError } from '../http-error.ts';

/** The limits a query must stay within (docs/graphql.md). */
export const GRAPHQL_LIMITS = { maxDepth: 8, maxCost: 50_000, maxAliases: 15, maxTokens: 2000 } as const;

export function graphqlRoutes(app: Hono<AuthEnv>, ctx: ServerContext, onInternalError?: (error: unknown) => void): void {
  type Executor = ReturnType<typeof import('./yoga.ts').createExecutor>;
  let executor: Promise<Executor> | undefined;
  const load = (): Promise<Executor> => {
    executor ??= import('./yoga.ts').then(
      (yoga) => yoga.createExecutor(ctx, onInternalError),
      (error) => {
        executor = undefined; // the next query tries again
        throw error;
      },
    );
    return executor;
  };
  app.post('/graphql', requireToken(ctx, 'admin', 'publisher', 'device'), async (c) => (await load()).fetch(c.req.raw, { principal: c.get('principal') }));
  app.all('/graphql', () => {
    throw new HttpError(405, 'METHOD_NOT_ALLOWED', 'send GraphQL queries as POST /graphql with a JSON body {"query", "variables"}', { Allow: 'POST' });
  });
}
