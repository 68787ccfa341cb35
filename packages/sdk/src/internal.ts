/**
 * For the runtime and tools, not for businesses: binding the ambient context, collecting
 * definitions, validating payloads, matching patterns.
 *
 * @example
 * import { bindContext, collect } from '@bac/sdk/internal'
 */

export { agentDefinition, BUILTIN_TOOLS } from './agent.ts'
export { activeCollector, Collector, collect, DECLARES, defaultCollector } from './collector.ts'
export { bindContext, currentContext } from './context.ts'
export { toMilliseconds } from './duration.ts'
export { policyOptions } from './options.ts'
export { eventName, matches, normalizePattern, normalizePatterns } from './pattern.ts'
export { refPath } from './ref.ts'
export { describeValue, isSchema, toSchema, validate } from './schema.ts'
export { isSecretField, PERSONAL_FIELDS, SECRET_FIELDS, scrubText, secretFields } from './secrets.ts'
export { serviceKey, serviceSubject } from './service.ts'
export { didYouMean, unknownKeys } from './suggest.ts'
