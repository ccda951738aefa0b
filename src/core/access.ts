// Who may do what (issue 7): roles, the permissions each grants, and the principal a request or a CLI run acts
// as. Pure: the HTTP layer, the CLI and the stores all decide with `can()`, so the matrix lives in one place.

export const Permissions = [
  'calls:read',
  'calls:control',
  'events:read',
  'routing:read',
  'system:read',
  'system:write',
  'outbound:read',
  'outbound:write',
  'recordings:read',
  'recordings:play',
  'recordings:hold',
  'audit:read',
  'tokens:manage',
  'retention:run',
  'jobs:manage',
] as const;
export type Permission = (typeof Permissions)[number];

/** Same list as the `api_tokens.roles` check constraint in the database. */
export const Roles = ['admin', 'manager', 'agent', 'auditor', 'service'] as const;
export type Role = (typeof Roles)[number];

// Admins run the system but do not listen to patients: playing a recording is for managers only, so an
// administrator's power over tokens never silently includes hearing calls.
export const ROLE_PERMISSIONS: Readonly<Record<Role, readonly Permission[]>> = Object.freeze({
  admin: Permissions.filter((p) => p !== 'recordings:play'),
  manager: [
    'calls:read',
    'calls:control',
    'events:read',
    'routing:read',
    'system:read',
    'system:write',
    'outbound:read',
    'outbound:write',
    'recordings:read',
    'recordings:play',
    'recordings:hold',
  ],
  agent: ['calls:read', 'calls:control', 'events:read', 'outbound:read'],
  auditor: ['audit:read', 'recordings:read', 'calls:read', 'system:read'],
  service: ['calls:read', 'events:read', 'outbound:read', 'outbound:write'],
});

/** Who is acting: an API token from the database, or the bootstrap token from the environment (admin). */
export interface Principal {
  id: string;
  name: string;
  roles: readonly Role[];
  kind: 'token' | 'bootstrap';
}

// What `callbridge tokens create` hands out: `cbt_` + base64url of 32 random bytes.
const ISSUED_TOKEN_SHAPE = /^cbt_[A-Za-z0-9_-]{43}$/;

/** True for a secret shaped like an issued API token (whether or not it exists, is expired or revoked). */
export function isIssuedTokenShape(secret: string): boolean {
  return ISSUED_TOKEN_SHAPE.test(secret);
}

/** CALLBRIDGE_API_TOKEN from the environment: an admin, for the first setup and for automation. */
export const BOOTSTRAP_PRINCIPAL: Principal = Object.freeze({ id: 'bootstrap', name: 'bootstrap', roles: Object.freeze(['admin'] as const), kind: 'bootstrap' });

export function can(roles: readonly Role[], permission: Permission): boolean {
  return roles.some((role) => ROLE_PERMISSIONS[role].includes(permission));
}

/** Every permission the roles grant together, in the order of `Permissions`. */
export function permissionsOf(roles: readonly Role[]): Permission[] {
  return Permissions.filter((permission) => can(roles, permission));
}

export function isRole(value: string): value is Role {
  return (Roles as readonly string[]).includes(value);
}

export type ParsedRoles = { ok: true; roles: Role[] } | { ok: false; unknown: string[] };

/**
 * Roles from `admin,auditor` or a list; blanks are ignored, duplicates collapse. An unknown name refuses the
 * whole list (a typo must not quietly create a token with fewer rights than meant), and so does an empty one.
 */
export function parseRoles(list: string | readonly string[]): ParsedRoles {
  const names = (typeof list === 'string' ? list.split(',') : list).map((name) => name.trim()).filter((name) => name !== '');
  const unknown = names.filter((name) => !isRole(name));
  if (unknown.length > 0) return { ok: false, unknown };
  if (names.length === 0) return { ok: false, unknown: [] };
  return { ok: true, roles: Roles.filter((role) => names.includes(role)) };
}
