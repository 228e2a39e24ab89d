// Every sandbox decision (allowed, refused by a rule, killed by a limit) is logged and counted here,
// so the metrics issue can read counters or subscribe without this package depending on prom-client.
import type { Logger } from 'pino';
import { getSandboxLogger } from './logger';

/** Which sandbox made the decision. */
export type SandboxKind = 'process' | 'isolate';

/** Rules that refuse a request; stable strings, safe to use as metric labels. */
export type RefusalRule =
  | 'command-syntax'
  | 'executable-not-allowed'
  | 'executable-not-found'
  | 'untrusted-executable'
  | 'shell'
  | 'wrapper'
  | 'shell-syntax'
  | 'inline-eval'
  | 'option-not-allowed'
  | 'script-outside-workspace'
  | 'path-outside-workspace'
  | 'cwd-outside-workspace'
  | 'env-denied'
  | 'env-not-allowed'
  | 'write-not-granted'
  | 'limit-out-of-range'
  | 'capability-not-granted'
  | 'request-invalid'
  | 'custom';

/** Limits that end a run; stable strings, safe to use as metric labels. */
export type LimitKind = 'timeout' | 'cpu' | 'memory' | 'output' | 'file-size' | 'processes' | 'crash';

export type SandboxDecision =
  | { readonly outcome: 'allowed'; readonly sandbox: SandboxKind; readonly subject: string; readonly dryRun: boolean }
  | {
      readonly outcome: 'refused';
      readonly sandbox: SandboxKind;
      readonly subject: string;
      readonly rule: RefusalRule;
      readonly reason: string;
      readonly dryRun: boolean;
    }
  | {
      readonly outcome: 'killed';
      readonly sandbox: SandboxKind;
      readonly subject: string;
      readonly limit: LimitKind;
      readonly reason: string;
      readonly dryRun: false;
    };

export interface DecisionCounts {
  readonly allowed: number;
  readonly refused: number;
  readonly killed: number;
  readonly dryRuns: number;
  readonly refusedByRule: Readonly<Partial<Record<RefusalRule, number>>>;
  readonly killedByLimit: Readonly<Partial<Record<LimitKind, number>>>;
}

export type DecisionListener = (decision: SandboxDecision) => void;

export interface DecisionRecorder {
  /** Logs and counts one decision, then tells every listener. */
  record(decision: SandboxDecision): void;
  /** A copy of the counters; dry runs are counted apart so they never skew the real figures. */
  snapshot(): DecisionCounts;
  /** Subscribes to decisions as they happen; returns the unsubscribe function. */
  onDecision(listener: DecisionListener): () => void;
}

export interface DecisionRecorderOptions {
  logger?: Logger;
}

/** Creates the shared log-and-count sink that both sandboxes report into (pass one to both to merge their counts). */
export function createDecisionRecorder(options: DecisionRecorderOptions = {}): DecisionRecorder {
  const logger = options.logger ?? getSandboxLogger('decisions');
  const listeners = new Set<DecisionListener>();
  let allowed = 0;
  let refused = 0;
  let killed = 0;
  let dryRuns = 0;
  const refusedByRule: Partial<Record<RefusalRule, number>> = {};
  const killedByLimit: Partial<Record<LimitKind, number>> = {};

  return {
    record(decision) {
      if (decision.dryRun) {
        dryRuns++;
      } else if (decision.outcome === 'allowed') {
        allowed++;
      } else if (decision.outcome === 'refused') {
        refused++;
        refusedByRule[decision.rule] = (refusedByRule[decision.rule] ?? 0) + 1;
      } else {
        killed++;
        killedByLimit[decision.limit] = (killedByLimit[decision.limit] ?? 0) + 1;
      }
      if (decision.outcome === 'allowed') logger.info({ decision }, `${decision.sandbox} allowed: ${decision.subject}`);
      else logger.warn({ decision }, `${decision.sandbox} ${decision.outcome}: ${decision.subject}: ${decision.reason}`);
      for (const listener of listeners) {
        try {
          listener(decision);
        } catch (error) {
          logger.error({ err: error }, 'a decision listener threw; ignored');
        }
      }
    },
    snapshot() {
      return {
        allowed,
        refused,
        killed,
        dryRuns,
        refusedByRule: { ...refusedByRule },
        killedByLimit: { ...killedByLimit },
      };
    },
    onDecision(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
