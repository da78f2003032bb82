/**
 * The values of the WEBHOOK_CHANNELS setting (directory.ts's ChannelPolicy says what each allows), as plain
 * values: every function reads the setting through shared/platform/config.ts, and importing them from here keeps
 * the directory's schemas out of functions that never read the directory.
 */
export const channelPolicies = ['https-only', 'allow-loopback-http'] as const;
