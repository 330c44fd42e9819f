/** The few logger methods the replay side uses; Nest's `Logger` satisfies it. */
export interface ReplayLogger {
  log(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}
