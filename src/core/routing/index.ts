// Routing's public surface: the document schema, the pure route() and its prose form.
export { checkReferences, type ReferenceProblem, type RoutingPath } from './references.ts';
export { explainDecision } from './explain.ts';
export { route, rulePath } from './route.ts';
export { routingDocumentSchema, type RoutingConfig } from './schema.ts';
export type { CallFacts, CallerHistory, FallbackTarget, RoutedAgent, RouteTarget, RoutingDecision, SystemMode } from './types.ts';
