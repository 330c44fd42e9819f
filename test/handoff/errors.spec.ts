import {
  ConfigValidationError,
  DuplicateNodeError,
  HandoffError,
  HandoffQueueNotConfiguredError,
  InvalidNodeIdError,
  NodeTimeoutError,
  NodeUnreachableError,
  PermanentWriteError,
  QueueFailedError,
  QueueFullError,
  QueueLockedError,
  QueueNotOpenError,
  QueueOpenError,
  ReplayClosedError,
  TransientWriteError,
  UnknownNodeError,
} from '../../src';

describe('the public errors', () => {
  const samples: Array<[string, Error]> = [
    [
      'ConfigValidationError',
      new ConfigValidationError([{ name: 'HH_X', value: 'y', expected: 'z' }]),
    ],
    ['DuplicateNodeError', new DuplicateNodeError('n1')],
    ['HandoffQueueNotConfiguredError', new HandoffQueueNotConfiguredError('n1')],
    ['InvalidNodeIdError', new InvalidNodeIdError('..')],
    ['NodeTimeoutError', new NodeTimeoutError('slow')],
    ['NodeUnreachableError', new NodeUnreachableError('refused', 0, 'ECONNREFUSED')],
    ['PermanentWriteError', new PermanentWriteError('400', 0, 400)],
    ['QueueFailedError', new QueueFailedError('/q', new Error('EIO'))],
    ['QueueFullError', new QueueFullError('/q', 10)],
    ['QueueLockedError', new QueueLockedError('/q', 42)],
    ['QueueNotOpenError', new QueueNotOpenError('/q')],
    ['QueueOpenError', new QueueOpenError('/q')],
    ['ReplayClosedError', new ReplayClosedError()],
    ['TransientWriteError', new TransientWriteError('503', 0, 503)],
    ['UnknownNodeError', new UnknownNodeError('n9')],
  ];

  it.each(samples)(
    '%s is a HandoffError named after its class, with a stable code',
    (name, err) => {
      expect(err).toBeInstanceOf(HandoffError);
      expect(err).toBeInstanceOf(Error);
      expect(err.name).toBe(name);
      expect((err as HandoffError).code).toMatch(/^ERR_[A-Z_]+$/);
      expect(String(err)).toMatch(new RegExp(`^${name}: `));
    },
  );

  it('every code names one kind of error', () => {
    const byCode = new Map<string, string[]>();
    for (const [name, err] of samples) {
      const code = (err as HandoffError).code;
      byCode.set(code, [...(byCode.get(code) ?? []), name]);
    }
    // Subclasses that narrow a kind keep its code (a timeout is a transient write failure).
    expect(byCode.get('ERR_TRANSIENT_WRITE')?.sort()).toEqual([
      'NodeTimeoutError',
      'NodeUnreachableError',
      'TransientWriteError',
    ]);
    for (const [code, names] of byCode) {
      if (code !== 'ERR_TRANSIENT_WRITE') expect(names).toHaveLength(1);
    }
  });

  it('keeps the cause of a failed queue', () => {
    const cause = Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
    const err = new QueueFailedError('/q', cause);
    expect(err.cause).toBe(cause);
    expect(err.message).toContain('EIO: i/o error, fdatasync');
  });
});
