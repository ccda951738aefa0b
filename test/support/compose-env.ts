/** Resolves compose's `${VAR}`, `${VAR:-default}`, `${VAR:?error}` and `$$` the way `docker compose` does. */
export function interpolate(value: string, env: Record<string, string>): string {
  return value.replace(/\$\$|\$\{([A-Z0-9_]+)(?::?([-?])([^}]*))?\}/g, (all, name?: string, op?: string, arg?: string) => {
    if (all === '$$') return '$';
    const set = env[name!];
    if (set !== undefined && set !== '') return set;
    if (op === '?') throw new Error(`compose requires ${name}`);
    return op === '-' ? arg! : '';
  });
}
