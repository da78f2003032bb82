/**
 * The names of the system's resources, apart from their descriptions so that every other file of the system
 * description can name them without importing each other in a circle.
 */

export type TableName = 'referrals' | 'audit' | 'metrics' | 'directory' | 'idempotency' | 'geography';
export type QueueName = 'referrals' | 'notifications';
export type FunctionName =
  | 'authorizer'
  | 'intake'
  | 'referralStatus'
  | 'metadata'
  | 'router'
  | 'notifier'
  | 'directoryAdmin'
  | 'caseWork'
  | 'inboxPage'
  | 'outcomes'
  | 'deadlines'
  | 'responseRecords'
  | 'surges'
  | 'reports'
  | 'evaluation'
  | 'observatoryPage';
