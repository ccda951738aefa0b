// Where a conversation's hand-off goes. The AI names a destination (`operator`, a ring group such as
// `billing`, or `emergency`); this turns the name into a routing target with the same rules as a new call:
// agents in priority and skill order, the group's fallback, the backup trunk when 3CX is down. A name the
// routing file does not know still reaches a person (the call's hand-off group), never a dead end.
import { resolveTarget, ringGroupTarget } from './targets.ts';
import { dialledNumber, targetContext } from './route.ts';
import type { RoutingConfig } from './schema.ts';
import type { RouteTarget, SystemMode } from './types.ts';

export interface TransferRequest {
  /** What the AI asked for: `operator`, `emergency`, or a ring group id. */
  name: string;
  /** The ring group this call's routing named for hand-offs (the dialled number's group or the operator's). */
  handoffRingGroup: string;
  /** The number the caller dialled (its skills order the agents). */
  to: string;
  mode: SystemMode;
}

export interface ResolvedTransfer {
  target: RouteTarget;
  /** What the name turned into, for the journal: `ring_group:billing`, `emergency`, … */
  resolvedAs: string;
  /** True when the name was not known and the hand-off group was used instead. */
  substituted: boolean;
}

export function resolveTransfer(config: RoutingConfig, request: TransferRequest): ResolvedTransfer {
  const ctx = targetContext(config, request);
  if (request.name === 'emergency') {
    const e = config.emergency.target;
    return { target: resolveTarget(ctx, { action: 'external', number: e.number, via: e.via }), resolvedAs: 'emergency', substituted: false };
  }
  if (request.mode === '3cx-down') {
    // No ring group is reachable: the same backup number a new call would get.
    const backup = config.modes['3cx-down'];
    const location = dialledNumber(config, request.to)?.location;
    const number = location !== undefined && Object.hasOwn(backup.locations, location) ? (backup.locations[location] as string) : backup.number;
    return { target: { kind: 'external', number, via: 'twilio' }, resolvedAs: 'backup_number', substituted: false };
  }
  const known = (group: string): boolean => Object.hasOwn(config.ring_groups, group);
  const wanted = request.name === 'operator' ? request.handoffRingGroup : request.name;
  const group = known(wanted) ? wanted : known(request.handoffRingGroup) ? request.handoffRingGroup : config.operator.ring_group;
  return { target: ringGroupTarget(ctx, group), resolvedAs: `ring_group:${group}`, substituted: group !== wanted };
}
