// Where a conversation's hand-off goes. The AI names a destination (`operator`, a ring group such as
// `billing`, `on_call`, or `emergency`); this turns the name into a routing target with the same rules as a
// new call: agents in priority and skill order, the group's fallback, the backup trunk when 3CX is down, and
// the hours of the dialled number's location: while it is closed, a request for a person goes to the
// after-hours human target (its ring groups are closed, nobody would answer). A name the routing file does
// not know still reaches a person (the call's hand-off group), never a dead end.
import { afterHoursPerson, momentAt, onCallFor } from './after-hours.ts';
import { resolveTarget, ringGroupTarget } from './targets.ts';
import { dialledNumber, targetContext } from './route.ts';
import type { RoutingConfig } from './schema.ts';
import type { RouteTarget, SystemMode } from './types.ts';

export interface TransferRequest {
  /** What the AI asked for: `operator`, `emergency`, `on_call`, or a ring group id. */
  name: string;
  /** The ring group this call's routing named for hand-offs (the dialled number's group or the operator's). */
  handoffRingGroup: string;
  /** The number the caller dialled (its skills order the agents, its location's hours apply). */
  to: string;
  mode: SystemMode;
  /** When the hand-off is asked for: outside the location's hours the ring groups are closed. */
  at: Date;
}

export interface ResolvedTransfer {
  target: RouteTarget;
  /** What the name turned into, for the journal: `ring_group:billing`, `voicemail:main`, `on_call`, `emergency`, … */
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
  const location = dialledNumber(config, request.to)?.location;
  if (request.mode === '3cx-down') {
    // No ring group is reachable: the same backup number a new call would get.
    const backup = config.modes['3cx-down'];
    const number = location !== undefined && Object.hasOwn(backup.locations, location) ? (backup.locations[location] as string) : backup.number;
    return { target: { kind: 'external', number, via: 'twilio' }, resolvedAs: 'backup_number', substituted: false };
  }
  // An unknown number has no location: the operator group takes it at any hour, as a new call would.
  const place = location === undefined ? undefined : config.locations[location];
  if (request.name === 'on_call') {
    const onCall = onCallFor(config, location ?? '');
    return { target: resolveTarget(ctx, { action: 'external', number: onCall.number, via: onCall.via }), resolvedAs: 'on_call', substituted: false };
  }
  if (location !== undefined && place !== undefined && momentAt(place, location, request.at).closed !== null) {
    const spec = afterHoursPerson(config, location);
    const target = resolveTarget(ctx, spec);
    const resolvedAs = spec.action === 'ring_group' ? `ring_group:${spec.ring_group}` : spec.action === 'voicemail' ? `voicemail:${spec.mailbox}` : 'external:after_hours';
    return { target, resolvedAs, substituted: false };
  }
  const known = (group: string): boolean => Object.hasOwn(config.ring_groups, group);
  const wanted = request.name === 'operator' ? request.handoffRingGroup : request.name;
  const group = known(wanted) ? wanted : known(request.handoffRingGroup) ? request.handoffRingGroup : config.operator.ring_group;
  return { target: ringGroupTarget(ctx, group), resolvedAs: `ring_group:${group}`, substituted: group !== wanted };
}
