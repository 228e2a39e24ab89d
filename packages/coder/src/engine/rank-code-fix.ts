/**
 * Ranking of TypeScript's code fixes. The first fix TypeScript offers is often a stub:
 * for a misspelled call it may offer "Add missing function declaration", which compiles
 * and then throws at run time. Fixes that repair the real mistake come first.
 */

/** What the ranker sees of a candidate fix. */
export interface RankableFix {
  fixName: string;
  description: string;
  /** Text the fix inserts, all changes joined. */
  newText: string;
}

/** Scores by TypeScript fix name: higher is tried first. */
export const fixNameScores: Readonly<Record<string, number>> = {
  import: 100,
  spelling: 95,
  addMissingAwaitToInitializer: 92,
  addMissingAwait: 90,
  fixAwaitInSyncFunction: 85,
  fixClassIncorrectlyImplementsInterface: 80,
  fixClassDoesntImplementInheritedAbstractMember: 80,
  addMissingConst: 70,
  addMissingNewOperator: 70,
  fixOverrideModifier: 70,
  fixAddMissingMember: 35,
  fixMissingMember: 35,
  fixMissingProperties: 30,
  fixMissingAttributes: 30,
  fixMissingFunctionDeclaration: 10,
  inferFromUsage: 5,
  disableJsDiagnostics: -100,
  addConvertToUnknownForNonOverlappingTypes: 0,
};

/** Score of fixes TypeScript has but the table does not name. */
export const defaultFixScore = 50;

/** A function that scores a candidate: higher is tried first. */
export type FixRanker = (fix: RankableFix) => number;

const throwingStub = /throw new Error\((['"])(Method|Function) not implemented\.\1\)/;

/**
 * The default ranking: import, spelling, await and implement-interface fixes first;
 * declarations that only throw and type-silencing casts last.
 */
export function rankCodeFix(fix: RankableFix): number {
  let score = fixNameScores[fix.fixName] ?? defaultFixScore;
  // A stub that throws compiles but breaks at run time; implementing an interface is still
  // worth it (the member is required), a made-up function for a typo is not.
  if (throwingStub.test(fix.newText)) score -= 5;
  if (/\bas unknown\b|@ts-(ignore|expect-error)/.test(fix.newText)) score -= 50;
  return score;
}
