/** DI token of the resolved `HandoffConfig` that every handoff module reads. */
export const HANDOFF_CONFIG = Symbol('HANDOFF_CONFIG');
