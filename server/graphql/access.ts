// Who may read what through GraphQL: the REST API's rules, written once as a
// table and checked against every field a query selects before it runs, so
// a resolver that forgets a check cannot leak. An admin token reads everything. A publisher token
// reaches models and versions only (and only its own models: the roots check
// that). A device token reaches only the fields its REST calls already tell
// it: what it reported of itself, and of its license the grant the update
// check offers.
import { getNamedType, GraphQLError, type ValidationRule } from 'graphql';
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
  'Mutation.widenRollout': ['admin', 'publisher'],
  'Mutation.pauseRollout': ['admin', 'publisher'],
  'Mutation.resumeRollout': ['admin', 'publisher'],
};

/** Types a publisher token may read (every field), besides the roots above. */
const PUBLISHER_TYPES = new Set(['Me', 'Model', 'Version', 'Tier', 'Segment', 'ModelPage', 'VersionPage', 'PageInfo', 'Rollout', 'RolloutStage']);

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

/**
 * A validation rule for `role`: every field the document selects (in
 * fragments too) is checked against the table before anything runs, so a
 * query that asks for one field its token may not read is refused whole,
 * with no data. Which records a root returns (a publisher's own models, a
 * device's own record) is the resolvers' part.
 */
export function fieldAccessRule(role: TokenRole): ValidationRule {
  const principal = { role } as Principal;
  const rule: ValidationRule = (context) => ({
    Field(node) {
      const parent = context.getParentType();
      if (!parent || node.name.value.startsWith('__')) return;
      const type = getNamedType(parent).name;
      if (!mayRead(principal, type, node.name.value)) {
        context.reportError(
          new GraphQLError(`a ${role} token may not read ${type}.${node.name.value}`, { nodes: node, extensions: { code: 'FORBIDDEN', status: 403 } }),
        );
      }
    },
  });
  // Yoga caches validation by the rules' names: each role's rule has its own.
  Object.defineProperty(rule, 'name', { value: `${role}FieldAccess` });
  return rule;
}
