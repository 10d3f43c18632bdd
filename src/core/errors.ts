/**
 * Errors a user can act on. `code` is stable for programs; `message` says what was
 * expected and what was found. Adapters print `message` without a stack trace.
 */
export class LenspressError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'LenspressError';
    this.code = code;
  }
}

export function isLenspressError(e: unknown): e is LenspressError {
  return e instanceof Error && (e as LenspressError).name === 'LenspressError' && typeof (e as LenspressError).code === 'string';
}
