/** A packed file that bench cannot use (missing column, wrong type, unreadable). */
export class StrategyInputError extends Error {}
