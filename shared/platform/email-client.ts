import { SESv2Client } from '@aws-sdk/client-sesv2';
import { accountRequests } from '#platform/request-accounting.ts';
import { traceRequests } from '#platform/tracing.ts';

/**
 * The SES v2 client, created once per execution environment (module load), in a module of its own so that only the
 * function that sends email (the notifier) bundles it. Its endpoint comes from AWS_ENDPOINT_URL_SESV2, which the
 * local runtime sets to its SES emulator (aws-ses-v2-local); in AWS it is unset and the regional endpoint applies.
 */
export const sesv2 = traceRequests(accountRequests(new SESv2Client({}), 'SESv2'), 'SESv2');
