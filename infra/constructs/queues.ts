import { Duration } from 'aws-cdk-lib';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { queueNames, queues } from '#system/queues.ts';
import { type QueueName } from '#system/names.ts';
import { byName, constructId } from './naming.ts';

/** A work queue and the dead-letter queue that catches what its consumer could not process. */
export interface QueuePair {
  readonly queue: Queue;
  readonly deadLetters: Queue;
}

export interface QueuesProps {
  /** The customer managed key every queue is encrypted with (senders and consumers are granted its use). */
  readonly key: IKey;
}

/**
 * One SQS queue per entry in the topology's `queues`, each with its own dead-letter queue.
 *
 * "Nothing lost" (docs/architecture.md) rests on these settings: a message that fails `maxReceiveCount` times moves
 * to the dead-letter queue, which raises an alarm (see monitoring.ts) and keeps the message for replay. The
 * dead-letter queue keeps messages as long as SQS allows for the work queue too, because a dead letter's age counts
 * from when it was first sent, not from when it was moved. Both queues are encrypted with the stack's own data key (keys.ts)
 * and refuse any request that is not over TLS.
 */
export class Queues extends Construct {
  readonly byName: Record<QueueName, QueuePair>;

  constructor(scope: Construct, id: string, props: QueuesProps) {
    super(scope, id);
    this.byName = byName(queueNames, (name) => {
      const spec = queues[name];
      const retentionPeriod = Duration.days(spec.retentionDays);
      const deadLetters = new Queue(this, `${constructId(name)}DeadLetters`, {
        retentionPeriod,
        encryption: QueueEncryption.KMS,
        encryptionMasterKey: props.key,
        // A data key is reused for five minutes, so a busy queue asks KMS once per five minutes, not per message.
        dataKeyReuse: Duration.minutes(5),
        enforceSSL: true,
      });
      const queue = new Queue(this, constructId(name), {
        // The topology already makes this at least six times the consumer's timeout (a test holds it to that),
        // so a batch that is still being worked on is not handed to a second consumer.
        visibilityTimeout: Duration.seconds(spec.visibilityTimeoutSeconds),
        retentionPeriod,
        encryption: QueueEncryption.KMS,
        encryptionMasterKey: props.key,
        // A data key is reused for five minutes, so a busy queue asks KMS once per five minutes, not per message.
        dataKeyReuse: Duration.minutes(5),
        enforceSSL: true,
        deadLetterQueue: { queue: deadLetters, maxReceiveCount: spec.maxReceiveCount },
      });
      return { queue, deadLetters };
    });
  }
}
