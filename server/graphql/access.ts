// Who may read what through GraphQL: the REST API's rules, written once as a
// table and applied to every field of the schema, so a resolver that forgets
// a check cannot leak. An admin token reads everything. A publisher token
// reaches models and versions only (and only its own models: the roots check
// that). A device token reaches only the fields its REST calls already tell
// it: what it reported of itself, and of its license the grant the update
// check offers.
import { defaultFieldResolver, GraphQLError, GraphQLObjectType, type GraphQLSchema } from 'graphql';
import type { Principal } from '../auth.ts';
import type { TokenRole } from '../db/schema.ts';

/** Root fields, by the roles that may call them (every other role gets FORBIDDEN). */
const ROOT_ROLES: Record<string, readonly TokenRole[]> = {
  'Query.me': ['admin', 'publisher', 'device'],
  'Query.models': ['admin', 'publisher'],
  'Query.model': ['admin', 'publisher'],
  'Query.customers': ['admin'],
  'Query.licenses': ['admin'],
  'Query.license': ['admin', 'device'],
  'Query.devices': ['admin'],
  'Query.device': ['admin', 'device'],
  'Query.audit': ['admin'],
  'Mutation.changeLicenseTier': ['admin'],
  'Mutation.revokeLicense': ['admin'],
  'Mutation.setLicenseExpiry': ['admin'],
  'Mutation.releaseVersion': ['admin', 'publisher'],
  'Mutation.withdrawVersion': ['admin', 'publisher'],
};

/** Types a publisher token may read (every field), besides the roots above. */
const PUBLISHER_TYPES = new Set(['Me', 'Model', 'Version', 'Tier', 'Segment', 'ModelPage', 'VersionPage', 'PageInfo']);

/** Fields a device token may read: what it reported itself, and its grant as the update check gives it. */
const DEVICE_FIELDS = new Set([
  'Me.role',
  'Me.tokenId',
  'Me.device',
  'Me.license',
  'Device.id',
  'Device.license',
  'Device.version',
  'Device.heldIntervals',
  'Device.sha256',
  'Device.slot',
  'Device.lastOutcome',
  'Device.lastOutcomeReason',
  'Device.downloadBytes',
  'License.id',
  'License.model',
  'License.grant',
  'Grant.version',
  'Grant.intervals',
]);

export function forbidden(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'FORBIDDEN', status: 403 } });
}

export function mayRead(principal: Principal, type: string, field: string): boolean {
  const key = `${type}.${field}`;
  const roles = ROOT_ROLES[key];
  if (roles) return roles.includes(principal.role);
  if (type === 'Query' || type === 'Mutation') return principal.role === 'admin';
  if (principal.role === 'admin') return true;
  if (principal.role === 'publisher') return PUBLISHER_TYPES.has(type);
  return DEVICE_FIELDS.has(key);
}

/** Wraps every field's resolver of `schema` with the table above (in place). */
export function guardSchema(schema: GraphQLSchema, principalOf: (context: unknown) => Principal): GraphQLSchema {
  for (const type of Object.values(schema.getTypeMap())) {
    if (!(type instanceof GraphQLObjectType) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      const resolve = field.resolve ?? defaultFieldResolver;
      field.resolve = function guarded(source, args, context, info) {
        const principal = principalOf(context);
        if (!mayRead(principal, type.name, field.name)) {
          throw forbidden(`a ${principal.role} token may not read ${type.name}.${field.name}`);
        }
        return resolve(source, args, context, info);
      };
    }
  }
  return schema;
}
