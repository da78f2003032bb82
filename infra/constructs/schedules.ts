import { Duration, Stack, Validations, type CfnElement } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Schedule, ScheduleExpression, ScheduleTargetInput } from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import { Construct } from 'constructs';
import { acknowledgeCompliance } from './compliance.ts';
import { functionNames, functions } from '#system/functions.ts';
import type { FunctionName } from '#system/names.ts';
import { constructId } from './naming.ts';

export interface SchedulesProps {
  functions: Record<FunctionName, NodejsFunction>;
}

/** What a scheduled run is invoked with: which schedule fired (the local timer sends the same). */
export interface ScheduledRunInput {
  schedule: FunctionName;
}

/**
 * One EventBridge Scheduler schedule per function the system description gives a `schedule`, invoking it at that
 * rate. A missed or failed run is not retried by the scheduler: the next run, minutes later, finds the same work (the
 * runs are idempotent sweeps over an index), so retrying would only overlap them.
 */
export class Schedules extends Construct {
  readonly byName: Partial<Record<FunctionName, Schedule>> = {};

  constructor(scope: Construct, id: string, props: SchedulesProps) {
    super(scope, id);
    for (const name of functionNames) {
      const schedule = functions[name].schedule;
      if (!schedule) continue;
      const input: ScheduledRunInput = { schedule: name };
      const fn = props.functions[name];
      // A role of its own per schedule (not the stack-wide one the target would make), so what it may do is
      // visible here and its one acknowledgement sits on it.
      const role = new Role(this, `${constructId(name)}Role`, {
        assumedBy: new ServicePrincipal('scheduler.amazonaws.com', {
          conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
        }),
        description: `Lets EventBridge Scheduler invoke the ${name} function`,
      });
      const functionId = Stack.of(this).getLogicalId(fn.node.defaultChild as CfnElement);
      Validations.of(role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${functionId}.Arn>:*]`,
        reason:
          `grantInvoke covers the ${name} function and its versions and aliases (<function arn>:*): the ` +
          'scheduler may invoke this one function and nothing else.',
      });
      acknowledgeCompliance(
        role,
        'IAMNoInlinePolicy',
        `The policy is grantInvoke on the ${name} function, attached to this schedule's one role only; a managed ` +
          'policy would be a shareable object that another role could attach, the opposite of least privilege.',
      );
      this.byName[name] = new Schedule(this, constructId(name), {
        description: `Runs ${name} every ${schedule.everyMinutes} minutes: ${functions[name].purpose}`,
        schedule: ScheduleExpression.rate(Duration.minutes(schedule.everyMinutes)),
        target: new LambdaInvoke(fn, {
          role,
          input: ScheduleTargetInput.fromObject(input),
          retryAttempts: 0,
          maxEventAge: Duration.minutes(schedule.everyMinutes),
        }),
      });
    }
  }
}
