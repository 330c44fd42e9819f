import { isValidNodeId } from '../../config/node-id';
import { JetStreamConfigError } from './errors';

/** Where one node's entries live in NATS. */
export interface NodeStreamNames {
  /** Stream of the node's hints, e.g. `HH_node-a`. */
  stream: string;
  /** Its only subject, e.g. `hh.node-a`. */
  subject: string;
  /** Stream of its dead letters, e.g. `HHDL_node-a`. */
  deadLetterStream: string;
  deadLetterSubject: string;
  /** Key of its replay lease in the lease bucket. */
  leaseKey: string;
}

/**
 * A node id (letters, digits, `_ . -`) as a NATS name token (letters, digits, `_ -`): `.` would
 * split a subject and is refused in stream names, so `_` and `.` are escaped as `_5F` and `_2E`.
 * The mapping is one-to-one, so two node ids never share a stream.
 */
export function natsToken(nodeId: string): string {
  if (!isValidNodeId(nodeId)) {
    throw new JetStreamConfigError(
      `node id ${JSON.stringify(nodeId)} is invalid: use 1-64 letters, digits, '_', '.', '-'`,
    );
  }
  return nodeId.replace(/[_.]/g, (c) => `_${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export function nodeStreamNames(nodeId: string): NodeStreamNames {
  const token = natsToken(nodeId);
  return {
    stream: `HH_${token}`,
    subject: `hh.${token}`,
    deadLetterStream: `HHDL_${token}`,
    deadLetterSubject: `hh-dl.${token}`,
    leaseKey: token,
  };
}
