/**
 * Tokens the composed ReplayModule exports to the whole application. They are private (not in
 * `src/index.ts`): the host injects `HandoffService`, `HandoffWriter` and `HANDOFF_CONFIG`,
 * which the public module aliases to these, so `isGlobal: false` can keep the public tokens
 * local while `registerQueue` still finds the one service that owns the queues.
 */
export const HINTED_HANDOFF_MODULE_OPTIONS = Symbol('HINTED_HANDOFF_MODULE_OPTIONS');
export const HANDOFF_CORE_SERVICE = Symbol('HANDOFF_CORE_SERVICE');
export const HANDOFF_CORE_CONFIG = Symbol('HANDOFF_CORE_CONFIG');
export const HANDOFF_CORE_WRITER = Symbol('HANDOFF_CORE_WRITER');
/** `{ client, owned }`: the transport, and whether the module made it (and so must close it). */
export const HANDOFF_CLIENT_REF = Symbol('HANDOFF_CLIENT_REF');
