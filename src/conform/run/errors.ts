/** The target did not answer at all: nothing could be checked. */
export class TargetUnreachable extends Error {}

/** What conform was told does not fit the target it found (exit code 2, like any bad argument). */
export class ConformUsageError extends Error {}
