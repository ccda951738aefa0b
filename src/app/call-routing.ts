// Routing as the rest of the controller uses it: one function that turns a new call's facts into a
// decision and a plan (with what we remember of the caller), and the routing API the HTTP layer serves.
import { planCall, type CallPlan, type Gateways } from '../core/call-plan.ts';
import { explainDecision } from '../core/routing/explain.ts';
import type { CallFacts, RoutingDecision, SystemMode } from '../core/routing/types.ts';
import type { RoutingApi } from '../http/index.ts';
import type { CallerHistory } from '../call/caller-history.ts';
import { formatRoutingError } from './routing-file.ts';
import type { RoutingService } from './routing-service.ts';

export interface CallRoutingOptions {
  routing: RoutingService;
  history: CallerHistory;
  gateways: Gateways;
  /** The system mode right now (failover sets it; `normal` until then). */
  mode: () => SystemMode;
}

/** A call's facts: who, which number, when, and the digits pressed for the after-hours offer (if any). */
export type RouteCall = (facts: { from: string; to: string; at: Date; digits?: string }) => { decision: RoutingDecision; plan: CallPlan };

export function createRouteCall(options: CallRoutingOptions): RouteCall {
  return ({ from, to, at, digits }) => {
    const history = options.history.get(from);
    const decision = options.routing.decide({ from, to, at, mode: options.mode(), ...(history ? { history } : {}), ...(digits ? { digits } : {}) });
    const target = decision.target;
    options.history.record(from, { at, ringGroup: target.kind === 'ring_group' ? target.ringGroup : null });
    return { decision, plan: planCall(decision, options.gateways) };
  };
}

export function createRoutingApi(routing: RoutingService): RoutingApi {
  return {
    status: () => {
      const status = routing.status();
      return {
        ...status,
        lastError: status.lastError && { at: status.lastError.at, errors: status.lastError.errors.map(formatRoutingError) },
      };
    },
    // A dry run: it does not touch the caller history that live calls use.
    test: (facts: CallFacts) => {
      const decision = routing.decide(facts);
      return { decision, explanation: explainDecision(decision, facts) };
    },
  };
}
