import { describe, expect, it } from 'vitest';
import { can, parseRoles, permissionsOf, Permissions, ROLE_PERMISSIONS, Roles } from '../../../src/core/access.ts';

describe('access matrix', () => {
  it('admin has everything but playing recordings', () => {
    expect(permissionsOf(['admin'])).toEqual(Permissions.filter((p) => p !== 'recordings:play'));
    expect(can(['admin'], 'recordings:play')).toBe(false);
    expect(can(['admin'], 'tokens:manage')).toBe(true);
  });

  it.each([
    ['manager', ['calls:read', 'calls:control', 'events:read', 'routing:read', 'system:read', 'system:write', 'outbound:read', 'outbound:write', 'recordings:read', 'recordings:play', 'recordings:hold']],
    ['agent', ['calls:read', 'calls:control', 'events:read', 'outbound:read']],
    ['auditor', ['calls:read', 'system:read', 'recordings:read', 'audit:read']],
    ['service', ['calls:read', 'events:read', 'outbound:read', 'outbound:write']],
  ] as const)('%s grants exactly its list', (role, expected) => {
    expect(new Set(permissionsOf([role]))).toEqual(new Set(expected));
  });

  it('nobody but admin manages tokens, runs retention or manages jobs', () => {
    for (const role of Roles.filter((r) => r !== 'admin')) {
      expect(can([role], 'tokens:manage')).toBe(false);
      expect(can([role], 'retention:run')).toBe(false);
      expect(can([role], 'jobs:manage')).toBe(false);
    }
  });

  it('roles add up', () => {
    expect(can(['agent'], 'audit:read')).toBe(false);
    expect(can(['agent', 'auditor'], 'audit:read')).toBe(true);
    expect(can([], 'calls:read')).toBe(false);
    expect(permissionsOf(['admin', 'manager'])).toEqual([...Permissions]);
  });

  it('every role lists only known permissions', () => {
    for (const role of Roles) for (const p of ROLE_PERMISSIONS[role]) expect(Permissions).toContain(p);
  });
});

describe('parseRoles', () => {
  it('accepts a comma list or an array, trims, drops duplicates, keeps the canonical order', () => {
    expect(parseRoles('auditor, admin,auditor')).toEqual({ ok: true, roles: ['admin', 'auditor'] });
    expect(parseRoles(['service'])).toEqual({ ok: true, roles: ['service'] });
  });

  it('refuses unknown names, naming them, and an empty list', () => {
    expect(parseRoles('admin,superuser,Agent')).toEqual({ ok: false, unknown: ['superuser', 'Agent'] });
    expect(parseRoles(' , ')).toEqual({ ok: false, unknown: [] });
  });
});
