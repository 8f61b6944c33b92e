// The GraphQL executor behind POST /graphql (index.ts registers the route
// and loads this file on the first query): GraphQL Yoga executing
// schema.graphql. Limits against expensive queries come from a maintained
// library (GraphQL Armor: depth, cost, aliases, tokens, no field
// suggestions); a device token additionally gets no schema introspection.
import { readFileSync } from 'node:fs';
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { useGraphQlJit } from '@envelop/graphql-jit';
import { GraphQLError, NoSchemaIntrospectionCustomRule, type DefinitionNode } from 'graphql';
import { createSchema, createYoga, type Plugin } from 'graphql-yoga';
import type { Principal } from '../auth.ts';
import type { ServerContext } from '../context.ts';
import { HttpError } from '../http-error.ts';
import { fieldAccessRule } from './access.ts';
import { createLoaders, resolvers, type GraphQLContext } from './resolvers.ts';
import { recordAudit } from '../store/audit.ts';
import { GRAPHQL_LIMITS } from './index.ts';

export const typeDefs = readFileSync(new URL('./schema.graphql', import.meta.url), 'utf8');

interface ServerContextOfRequest {
  principal: Principal;
}

const FIELD_ACCESS = { admin: fieldAccessRule('admin'), publisher: fieldAccessRule('publisher'), device: fieldAccessRule('device') };

/**
 * The caller's role decides which fields a query may select (access.ts);
 * device tokens get no introspection either: the schema's other types are
 * none of their business.
 */
function accessByRole(): Plugin<ServerContextOfRequest> {
  return {
    onValidate({ context, addValidationRule }) {
      const role = context.principal.role;
      addValidationRule(FIELD_ACCESS[role]);
      if (role === 'device') addValidationRule(NoSchemaIntrospectionCustomRule);
    },
  };
}

/**
 * A refused change (403 or 409 from a mutation) leaves an audit row, as a
 * refused REST call does: who tried what, and why not.
 */
function auditRefusedMutations(ctx: ServerContext, onInternalError?: (error: unknown) => void): Plugin<ServerContextOfRequest> {
  return {
    onExecute({ args }) {
      return {
        async onExecuteDone({ result }) {
          if (!('errors' in result) || !result.errors) return;
          const principal = args.contextValue.principal;
          if (principal.role === 'device') return;
          for (const error of result.errors) {
            const original = error.originalError;
            if (!(original instanceof HttpError) || (original.status !== 403 && original.status !== 409)) continue;
            if (args.document.definitions.every((d: DefinitionNode) => d.kind !== 'OperationDefinition' || d.operation !== 'mutation')) continue;
            try {
              await recordAudit(ctx.db, {
                actorTokenId: principal.tokenId,
                action: 'request.refused',
                entity: 'request',
                entityId: `graphql ${error.path?.join('.') ?? 'mutation'}`.slice(0, 300),
                detail: { status: original.status, code: original.code },
              });
            } catch (auditError) {
              onInternalError?.(auditError);
            }
          }
        },
      };
    },
  };
}

/** The executor for one server: call its fetch with the request and `{ principal }`. */
export function createExecutor(ctx: ServerContext, onInternalError?: (error: unknown) => void) {
  const schema = createSchema<GraphQLContext>({ typeDefs, resolvers });
  return createYoga<ServerContextOfRequest>({
    schema,
    graphqlEndpoint: '/graphql',
    graphiql: false,
    landingPage: false,
    logging: false,
    // Parsed documents are cached; validation is not: its rules depend on
    // the caller's role, and a cache shared across roles would let one
    // role's verdict stand for another's.
    parserAndValidationCache: { validationCache: false },
    // The store's HttpErrors keep their code and message; anything else is
    // our bug: logged, and masked for the caller.
    maskedErrors: {
      maskError(error) {
        const original = error instanceof GraphQLError ? error.originalError : error;
        if (original instanceof HttpError) {
          return new GraphQLError(original.message, {
            nodes: error instanceof GraphQLError ? error.nodes : undefined,
            path: error instanceof GraphQLError ? error.path : undefined,
            extensions: { code: original.code, status: original.status },
          });
        }
        if (error instanceof GraphQLError && (original === undefined || original === null || original instanceof GraphQLError)) return error;
        onInternalError?.(original ?? error);
        return new GraphQLError('the server failed on this field; it logged the cause and keeps serving', { extensions: { code: 'INTERNAL' } });
      },
    },
    context: ({ principal }) => ({ ctx, principal, loaders: createLoaders(ctx) }),
    plugins: [
      EnvelopArmorPlugin({
        maxDepth: { n: GRAPHQL_LIMITS.maxDepth, exposeLimits: true },
        costLimit: { maxCost: GRAPHQL_LIMITS.maxCost, exposeLimits: true },
        maxAliases: { n: GRAPHQL_LIMITS.maxAliases, exposeLimits: true },
        maxTokens: { n: GRAPHQL_LIMITS.maxTokens, exposeLimits: true },
        maxDirectives: { n: 10, exposeLimits: true },
        blockFieldSuggestion: { enabled: true },
      }),
      // Queries compiled to JavaScript once per document (graphql-jit): a
      // 1,000-device list runs in a fraction of the interpreter's time.
      useGraphQlJit(),
      accessByRole(),
      auditRefusedMutations(ctx, onInternalError),
    ],
  });
}
