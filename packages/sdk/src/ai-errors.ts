/**
 * Errors of `ai` calls and agents, each with a stable `code` and an `isX` guard.
 *
 * @example
 * try { await ai.classify({ text, categories }) } catch (e) { if (isAIBudgetError(e)) notifyFinance(e.message) }
 */
import { BacError, hasCode } from './errors.ts'

/** A budget is spent: no more calls until it is raised or its period turns. Not retried. */
export class AIBudgetError extends BacError {
  readonly code = 'BAC_AI_BUDGET'
  override readonly retryable = false

  constructor(
    /** Which budget: `business`, `service Support`, `run`. */
    readonly budget: string,
    readonly spent: number,
    readonly limit: number,
  ) {
    super(
      `the ${budget} AI budget of $${limit} is spent ($${spent.toFixed(4)} used); no more AI calls until it is raised`,
    )
  }
}
export const isAIBudgetError = (e: unknown): e is AIBudgetError => hasCode(e, 'BAC_AI_BUDGET')

/** The model's answer did not follow the schema, even after it was shown the error once. */
export class AIOutputError extends BacError {
  readonly code = 'BAC_AI_OUTPUT'
  /** Its answers are stored: a retry would replay the same ones. */
  override readonly retryable = false

  constructor(
    message: string,
    /** The last answer, as the model wrote it. */
    readonly output: string,
  ) {
    super(message)
  }
}
export const isAIOutputError = (e: unknown): e is AIOutputError => hasCode(e, 'BAC_AI_OUTPUT')

/** No model could answer: every one in the chain failed, timed out or has its breaker open. */
export class AIUnavailableError extends BacError {
  readonly code = 'BAC_AI_UNAVAILABLE'
}
export const isAIUnavailableError = (e: unknown): e is AIUnavailableError => hasCode(e, 'BAC_AI_UNAVAILABLE')

/** An agent used all its turns without a final answer. Not retried (it would do the same). */
export class AgentTurnLimitError extends BacError {
  readonly code = 'BAC_AGENT_TURNS'
  override readonly retryable = false
}
export const isAgentTurnLimitError = (e: unknown): e is AgentTurnLimitError => hasCode(e, 'BAC_AGENT_TURNS')
